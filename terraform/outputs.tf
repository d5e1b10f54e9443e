output "api_url" {
  description = "Base URL of the HTTP API (the api function). Call it with an identity token: see README.md."
  value       = google_cloudfunctions2_function.fn[var.api_function].service_config[0].uri
}

output "console_url" {
  description = "URL of the operator console (the console function). Open it through `gcloud run services proxy`: see README.md."
  value       = google_cloudfunctions2_function.fn[var.console_function].service_config[0].uri
}

output "function_urls" {
  description = "URL of every function, by name (consumers accept only the push account's OIDC token)."
  value       = { for name, f in google_cloudfunctions2_function.fn : name => f.service_config[0].uri }
}

output "topics" {
  description = "Source topics."
  value       = [for t in var.topics : google_pubsub_topic.topic[t].name]
}

output "dead_letter_topics" {
  description = "Dead-letter topics (<topic>-dlq)."
  value       = [for t in var.dead_letter_topics : google_pubsub_topic.topic[t].name]
}

output "push_subscriptions" {
  description = "Push subscription name => consuming function."
  value = merge(
    { for name, s in google_pubsub_subscription.push : name => var.subscriptions[name].consumer },
    { for name, s in google_pubsub_subscription.dead_letter_push : name => var.subscriptions[name].consumer },
  )
}

output "dead_letter_pull_subscriptions" {
  description = "Pull subscriptions keeping a copy of every dead-lettered message (dead-letter topic => subscription)."
  value       = { for name, topic in local.dead_letter_pull_subscriptions : topic => google_pubsub_subscription.dead_letter_pull[name].name }
}

output "runtime_service_accounts" {
  description = "Runtime service account of every function."
  value       = { for name, sa in google_service_account.runtime : name => sa.email }
}

output "push_service_account" {
  description = "Service account in the push subscriptions' OIDC tokens."
  value       = google_service_account.push.email
}

output "source_object" {
  description = "The uploaded source archive (named after its sha256)."
  value       = "gs://${google_storage_bucket.source.name}/${google_storage_bucket_object.source.name}"
}

output "sweep_job" {
  description = "Cloud Scheduler job that drives the sweeper."
  value       = google_cloud_scheduler_job.sweep.id
}
