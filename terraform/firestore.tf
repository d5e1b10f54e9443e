# Firestore (native mode), the composite indexes the code's queries need and the TTL policies, all generated from
# shared/runtime/store/collections.ts (INDEXES, TTL_FIELDS).

resource "google_firestore_database" "db" {
  project     = var.project_id
  name        = "(default)"
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"

  deletion_policy         = var.firestore_deletion_policy
  delete_protection_state = var.firestore_deletion_policy == "DELETE" ? "DELETE_PROTECTION_DISABLED" : "DELETE_PROTECTION_ENABLED"

  depends_on = [google_project_service.enabled]
}

resource "google_firestore_index" "composite" {
  for_each = var.indexes

  project     = var.project_id
  database    = google_firestore_database.db.name
  collection  = each.value.collection
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field_path
      order      = fields.value.order
    }
  }
}

# TTL policies: Firestore deletes a document some time (typically within a day) after the timestamp in this field.
# No query filters or orders on these fields, so their single-field indexes are disabled (index_config {}), which
# Firestore recommends for TTL timestamps to avoid write hotspots.
resource "google_firestore_field" "ttl" {
  for_each = var.ttl_fields

  project    = var.project_id
  database   = google_firestore_database.db.name
  collection = each.value.collection
  field      = each.value.field

  ttl_config {}

  index_config {}
}
