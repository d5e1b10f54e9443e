# Identities, least privilege:
# - one runtime service account per function: Firestore (roles/datastore.user) and roles/pubsub.publisher only on
#   the topics that function publishes to (pubsub.tf);
# - one push service account whose OIDC token Pub/Sub attaches to push requests: roles/run.invoker only on the
#   consumer functions (functions.tf);
# - one build service account for Cloud Build (new projects no longer grant the default build account enough);
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

resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/cloudbuild.builds.builder", # read the source, write the image to Artifact Registry, write build logs
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.build.member
}
