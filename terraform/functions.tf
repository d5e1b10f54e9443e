# Every function: Cloud Functions 2nd gen, nodejs22, built from the one source archive, its own runtime identity.
# Consumers are plain HTTP functions fed by the push subscriptions in pubsub.tf (an event_trigger cannot have a
# dead-letter topic), reachable only from inside the project (Pub/Sub push counts as internal) and only with the
# push account's OIDC token. The api is reachable from the internet but only by principals holding run.invoker.

locals {
  # Read by shared/config.ts. K_SERVICE is set by the platform, so no emulator default applies in the cloud.
  function_env = {
    GOOGLE_CLOUD_PROJECT           = var.project_id
    SAGA_STEP_TIMEOUT_MS           = tostring(var.step_timeout_ms)
    SAGA_MAX_DELIVERY_ATTEMPTS     = tostring(var.max_delivery_attempts)
    SAGA_RETRY_MIN_BACKOFF_S       = tostring(var.retry_min_backoff_seconds)
    SAGA_RETRY_MAX_BACKOFF_S       = tostring(var.retry_max_backoff_seconds)
    SAGA_OUTBOX_GRACE_MS           = tostring(var.outbox_grace_ms)
    SAGA_COMPENSATION_MAX_ATTEMPTS = tostring(var.compensation_max_attempts)
    SAGA_SWEEP_BATCH               = tostring(var.sweep_batch)
    SAGA_LOG_LEVEL                 = var.log_level
  }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = var.functions

  name        = each.key
  location    = var.region
  description = "Saga ${each.value.trigger == "http" ? "HTTP API" : "Pub/Sub push consumer"}: ${each.key} (entry point ${each.value.entry_point})"

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
    available_memory                 = var.function_memory
    available_cpu                    = var.function_cpu
    timeout_seconds                  = var.function_timeout_seconds
    min_instance_count               = var.function_min_instances
    max_instance_count               = var.function_max_instances
    max_instance_request_concurrency = var.function_concurrency
    ingress_settings                 = each.value.trigger == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime[each.key].email
    environment_variables            = local.function_env
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.build,
    google_project_iam_member.runtime_firestore,
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
