# APIs the deployment uses. serviceusage and cloudresourcemanager must already be enabled for terraform to run
# (see README.md); they are listed so that they stay enabled. Destroying leaves APIs enabled (disable_on_destroy).

locals {
  services = toset([
    "artifactregistry.googleapis.com", # images built by Cloud Functions
    "cloudbuild.googleapis.com",       # builds the functions from the source archive
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudtrace.googleapis.com", # spans of every function (SAGA_TRACING=cloud)
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com", # OIDC tokens for push subscriptions
    "logging.googleapis.com",
    "monitoring.googleapis.com", # the functions' OpenTelemetry metrics
    "pubsub.googleapis.com",
    "run.googleapis.com", # 2nd gen functions run on Cloud Run
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "enabled" {
  for_each = local.services

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# No depends_on on the API enablement: it only needs cloudresourcemanager, enabled before terraform runs (README.md).
# With one, any pending change to google_project_service.enabled (adding an API) would defer this read to apply
# time, make `number` unknown at plan and so replace every IAM member built on the Pub/Sub service agent below.
data "google_project" "this" {
  project_id = var.project_id
}

locals {
  # The Pub/Sub service agent: forwards to dead-letter topics and mints the push subscriptions' OIDC tokens.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
