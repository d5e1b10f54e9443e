# Cloud Scheduler drives the sweeper: it publishes the tick message to the ticks topic on sweep_schedule, the
# ticks push subscription delivers it to the sweeper function (republishes unsent outbox records, times out steps).

resource "google_cloud_scheduler_job" "sweep" {
  name        = "${var.name_prefix}-sweep"
  region      = var.region
  description = "Publishes a tick to ${var.sweep.topic}: the sweeper republishes unsent outbox records and times out overdue saga steps."
  schedule    = var.sweep_schedule
  time_zone   = var.sweep_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topic[var.sweep.topic].id
    data       = base64encode(jsonencode(var.sweep.message))
  }

  depends_on = [google_project_service.enabled]
}
