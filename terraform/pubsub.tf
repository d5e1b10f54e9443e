# Topics, dead-letter topics and one push subscription per consumer, all from the generated topology.

resource "google_pubsub_topic" "topic" {
  for_each = local.all_topics

  name = each.key

  depends_on = [google_project_service.enabled]
}

locals {
  # Seconds a message spends in retry backoff before Pub/Sub dead-letters it, when every delivery fails at once (a
  # 429: no free instance). Pub/Sub's backoff is exponential from the minimum to the maximum (best effort, not an
  # exact schedule); this assumes it doubles. README.md, "Capacity and delivery settings", has the arithmetic.
  retry_budget_seconds = sum([for i in range(var.max_delivery_attempts - 1) : min(var.retry_min_backoff_seconds * pow(2, i), var.retry_max_backoff_seconds)])
}

# Push subscriptions on the source topics: OIDC-authenticated push to the consuming function, retries with backoff,
# and after max_delivery_attempts the message goes to <topic>-dlq.
resource "google_pubsub_subscription" "push" {
  for_each = local.source_subscriptions

  name  = each.key
  topic = google_pubsub_topic.topic[each.value.topic].id

  # Pub/Sub waits this long for the push response: never less than the function may take.
  ack_deadline_seconds       = local.function_settings[each.value.consumer].timeout_seconds
  message_retention_duration = "604800s"
  enable_message_ordering    = each.value.ordered

  expiration_policy {
    ttl = "" # never expires, however long it is idle
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.fn[each.value.consumer].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.fn[each.value.consumer].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "${var.retry_min_backoff_seconds}s"
    maximum_backoff = "${var.retry_max_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.topic[each.value.dead_letter_topic].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  lifecycle {
    precondition {
      condition     = var.retry_min_backoff_seconds <= var.retry_max_backoff_seconds
      error_message = "retry_min_backoff_seconds must not exceed retry_max_backoff_seconds."
    }

    # A command dead-lettered while its participant is merely busy would time its step out at once: the retries
    # must last at least as long as a command may wait to be taken.
    precondition {
      condition     = local.retry_budget_seconds * 1000 >= var.schedule_to_start_ms
      error_message = "max_delivery_attempts and the retry backoff give a message less than schedule_to_start_ms before it is dead-lettered: raise max_delivery_attempts or the backoff (README.md, \"Capacity and delivery settings\")."
    }

    precondition {
      condition     = each.value.topic != var.sweep.topic || var.sweep_budget_ms < local.function_settings[each.value.consumer].timeout_seconds * 1000
      error_message = "sweep_budget_ms must be below the sweeper subscription's ack deadline (the sweeper's timeout_seconds), or Pub/Sub redelivers the tick while the sweep still runs."
    }
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invoker,
    google_service_account_iam_member.pubsub_agent_token_creator,
    google_pubsub_topic_iam_member.pubsub_agent_dead_letter_publisher,
  ]
}

# Push subscriptions on the dead-letter topics (consumer: the dead-letters function, which records every message).
# No dead-letter policy: a message that cannot be recorded yet is retried until it is.
resource "google_pubsub_subscription" "dead_letter_push" {
  for_each = local.dead_letter_subscriptions

  name  = each.key
  topic = google_pubsub_topic.topic[each.value.topic].id

  ack_deadline_seconds       = local.function_settings[each.value.consumer].timeout_seconds
  message_retention_duration = "604800s"
  enable_message_ordering    = each.value.ordered

  expiration_policy {
    ttl = ""
  }

  push_config {
    push_endpoint = google_cloudfunctions2_function.fn[each.value.consumer].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.fn[each.value.consumer].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "${var.retry_min_backoff_seconds}s"
    maximum_backoff = "${var.retry_max_backoff_seconds}s"
  }

  lifecycle {
    precondition {
      condition     = var.retry_min_backoff_seconds <= var.retry_max_backoff_seconds
      error_message = "retry_min_backoff_seconds must not exceed retry_max_backoff_seconds."
    }
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.push_invoker,
    google_service_account_iam_member.pubsub_agent_token_creator,
  ]
}

# A pull subscription on every dead-letter topic, created with the topics (before any function exists): Pub/Sub
# drops messages published to a topic without subscriptions, so this keeps a copy of everything dead-lettered for
# dead_letter_retention even if the dead-letters function is not deployed yet or failing. Nothing consumes it;
# inspect it with `gcloud pubsub subscriptions pull <name> --limit=10` (without --auto-ack to leave messages there).
resource "google_pubsub_subscription" "dead_letter_pull" {
  for_each = local.dead_letter_pull_subscriptions

  name  = each.key
  topic = google_pubsub_topic.topic[each.value].id

  ack_deadline_seconds       = 60
  message_retention_duration = var.dead_letter_retention
  retain_acked_messages      = false

  expiration_policy {
    ttl = ""
  }
}

# Runtime service accounts publish exactly where their function publishes.
resource "google_pubsub_topic_iam_member" "runtime_publisher" {
  for_each = var.publisher_bindings

  topic  = google_pubsub_topic.topic[each.value.topic].name
  role   = "roles/pubsub.publisher"
  member = google_service_account.runtime[each.value.function].member
}

# The Pub/Sub service agent forwards undeliverable messages: it publishes to each dead-letter topic...
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letter_publisher" {
  for_each = toset(var.dead_letter_topics)

  topic  = google_pubsub_topic.topic[each.value].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

# ...and acknowledges the forwarded message on the source subscription.
resource "google_pubsub_subscription_iam_member" "pubsub_agent_source_subscriber" {
  for_each = local.source_subscriptions

  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
