# Every function: Cloud Functions 2nd gen, nodejs22, built from the one source archive, its own runtime identity.
# Consumers are plain HTTP functions fed by the push subscriptions in pubsub.tf (an event_trigger cannot have a
# dead-letter topic), reachable only from inside the project (Pub/Sub push counts as internal) and only with the
# push account's OIDC token. The api and the console are reachable from the internet but only by principals holding
# run.invoker on them.

locals {
  # Read by shared/runtime/config.ts. K_SERVICE is set by the platform, so no emulator default applies in the cloud.
  function_env = {
    GOOGLE_CLOUD_PROJECT           = var.project_id
    SAGA_STEP_TIMEOUT_MS           = tostring(var.step_timeout_ms)
    SAGA_SCHEDULE_TO_START_MS      = tostring(var.schedule_to_start_ms)
    SAGA_THROUGHPUT_PER_S          = tostring(var.throughput_per_second)
    SAGA_MAX_QUEUE_S               = tostring(var.max_queue_seconds)
    SAGA_MAX_DELIVERY_ATTEMPTS     = tostring(var.max_delivery_attempts)
    SAGA_RETRY_MIN_BACKOFF_S       = tostring(var.retry_min_backoff_seconds)
    SAGA_RETRY_MAX_BACKOFF_S       = tostring(var.retry_max_backoff_seconds)
    SAGA_OUTBOX_GRACE_MS           = tostring(var.outbox_grace_ms)
    SAGA_COMPENSATION_MAX_ATTEMPTS = tostring(var.compensation_max_attempts)
    SAGA_SWEEP_INTERVAL_MS         = tostring(var.sweep_interval_ms)
    SAGA_SWEEP_BUDGET_MS           = tostring(var.sweep_budget_ms)
    SAGA_SWEEP_BATCH               = tostring(var.sweep_batch)
    SAGA_LOG_LEVEL                 = var.log_level
    SAGA_START_VERSIONS            = var.start_versions
    SAGA_METRICS                   = var.metrics
    SAGA_METRICS_EXPORT_MS         = tostring(var.metrics_export_interval_ms)
  }

  # Capacity of every function: its own entry of var.function_settings, else the "default" entry.
  function_settings = { for name in keys(var.functions) : name => lookup(var.function_settings, name, var.function_settings["default"]) }

  # The function Cloud Scheduler's ticks reach (its sweeps must end within its timeout and ack deadline).
  sweeper_function = one([for s in values(var.subscriptions) : s.consumer if s.topic == var.sweep.topic])
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = var.functions

  name        = each.key
  location    = var.region
  description = "Saga ${each.value.trigger == "http" ? "HTTP function" : "Pub/Sub push consumer"}: ${each.key} (entry point ${each.value.entry_point})"

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.value.entry_point
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = local.function_settings[each.key].memory
    available_cpu                    = local.function_settings[each.key].cpu
    timeout_seconds                  = local.function_settings[each.key].timeout_seconds
    min_instance_count               = local.function_settings[each.key].min_instances
    max_instance_count               = local.function_settings[each.key].max_instances
    max_instance_request_concurrency = local.function_settings[each.key].concurrency
    ingress_settings                 = each.value.trigger == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime[each.key].email
    environment_variables            = local.function_env
  }

  lifecycle {
    precondition {
      condition     = each.key != local.sweeper_function || var.sweep_budget_ms < local.function_settings[each.key].timeout_seconds * 1000
      error_message = "sweep_budget_ms must be below the sweeper's timeout_seconds (function_settings), or the platform ends the sweep before its budget is spent."
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_project_iam_member.runtime_firestore,
    google_project_iam_member.runtime_metric_writer,
    google_firestore_database.db,
  ]
}

# Only the push account may invoke the consumers.
resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.push_functions

  project  = var.project_id
  location = google_cloudfunctions2_function.fn[each.key].location
  name     = google_cloudfunctions2_function.fn[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

# Who may call the API: nobody beyond the project's own invokers unless listed in api_invoker_members.
resource "google_cloud_run_v2_service_iam_member" "api_invoker" {
  for_each = toset(var.api_invoker_members)

  project  = var.project_id
  location = google_cloudfunctions2_function.fn[var.api_function].location
  name     = google_cloudfunctions2_function.fn[var.api_function].name
  role     = "roles/run.invoker"
  member   = each.value
}

# Who may open the operator console: nobody beyond the project's own invokers unless listed in console_invoker_members.
resource "google_cloud_run_v2_service_iam_member" "console_invoker" {
  for_each = toset(var.console_invoker_members)

  project  = var.project_id
  location = google_cloudfunctions2_function.fn[var.console_function].location
  name     = google_cloudfunctions2_function.fn[var.console_function].name
  role     = "roles/run.invoker"
  member   = each.value
}
