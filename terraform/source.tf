# One source archive for every function (`npm run package` writes build/source.zip). The object is named after the
# archive's sha256: a code change uploads a new object and redeploys the functions; an unchanged tree plans no change.

locals {
  source_archive = startswith(var.source_archive, "/") ? var.source_archive : "${path.module}/${var.source_archive}"
  source_sha256  = filesha256(local.source_archive)
}

resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-${var.name_prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  depends_on = [google_project_service.enabled]
}

resource "google_storage_bucket_object" "source" {
  name   = "source-${local.source_sha256}.zip"
  bucket = google_storage_bucket.source.name
  source = local.source_archive
}
