# Identities, least privilege:
# - one runtime service account per function: Firestore (roles/datastore.user), writing its metrics to Cloud
#   Monitoring (roles/monitoring.metricWriter: write only, no read), writing spans to Cloud Trace
#   (roles/cloudtrace.agent: SAGA_TRACING=cloud, the default there) and roles/pubsub.publisher only on the topics
#   that function publishes to (pubsub.tf); the console's publishes to every source topic (redrive);
# - one push service account whose OIDC token Pub/Sub attaches to push requests: roles/run.invoker only on the
#   consumer functions (functions.tf);
# - one build service account for Cloud Build (new projects no longer grant the default build account enough), with
#   the roles Google documents for a functions build account instead of roles/cloudbuild.builds.builder (below);
# - the Pub/Sub service agent: publisher on each dead-letter topic, subscriber on each source subscription
#   (pubsub.tf), token creator on the push account (below).

resource "google_service_account" "runtime" {
  for_each = var.functions

  account_id   = "${var.name_prefix}-fn-${each.key}"
  display_name = "Saga function ${each.key} (runtime)"
  description  = "Runtime identity of the ${each.key} function: Firestore, and publishing to ${length(each.value.publishes) == 0 ? "no topic" : join(", ", each.value.publishes)}."

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "runtime_firestore" {
  for_each = var.functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.runtime[each.key].member
}

# The OpenTelemetry metrics (shared/runtime/telemetry): a project-level role — Cloud Monitoring has no narrower
# scope for writing time series.
resource "google_project_iam_member" "runtime_metric_writer" {
  for_each = var.functions

  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = google_service_account.runtime[each.key].member
}

# Spans of every function go to Cloud Trace (shared/runtime/telemetry/tracing-sdk.ts): write access to traces only.
resource "google_project_iam_member" "runtime_trace" {
  for_each = var.functions

  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = google_service_account.runtime[each.key].member
}

resource "google_service_account" "push" {
  account_id   = "${var.name_prefix}-pubsub-push"
  display_name = "Saga Pub/Sub push (invokes the consumer functions)"
  description  = "Identity in the OIDC token of every push subscription; may only invoke the consumer functions."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-build"
  display_name = "Saga functions build (Cloud Build)"
  description  = "Builds the functions' container images from the source archive."

  depends_on = [google_project_service.enabled]
}

# What a Cloud Run functions (2nd gen) build needs, and nothing else (README.md, "Identities"): write its logs,
# push the function image to Artifact Registry (the gcf-artifacts repository Cloud Functions creates on the first
# deploy) and read the source archive. Cloud Functions copies the archive from the source bucket into its own
# gcf-v2-sources-<project number>-<region> bucket, which the build reads and which does not exist before the first
# deploy: hence object read on the project, not a binding on one bucket.
resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/logging.logWriter",       # build logs
    "roles/artifactregistry.writer", # the function images
    "roles/storage.objectViewer",    # the source archive (read only)
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.build.member
}
