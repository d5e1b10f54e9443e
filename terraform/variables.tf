# Settings a deployment chooses. The topology (topics, subscriptions, functions, indexes, TTL fields) is not set
# here: it comes from shared/ through the generated topology.auto.tfvars.json (see topology.tf).

variable "project_id" {
  description = "Google Cloud project to deploy into (it must exist and have billing enabled)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 lowercase letters, digits and hyphens (the functions' config accepts no other form)."
  }
}

variable "region" {
  description = "Region of the functions, the source bucket and the Cloud Scheduler job."
  type        = string
  default     = "us-central1"
}

variable "firestore_location" {
  description = "Firestore location (a region such as us-central1, or a multi-region such as nam5). Defaults to var.region. Cannot be changed once the database exists."
  type        = string
  default     = null
}

variable "firestore_deletion_policy" {
  description = "DELETE: terraform destroy deletes the Firestore database and its data (demo default). ABANDON: the database is kept and protected against deletion (use for anything you care about)."
  type        = string
  default     = "DELETE"

  validation {
    condition     = contains(["DELETE", "ABANDON"], var.firestore_deletion_policy)
    error_message = "firestore_deletion_policy must be DELETE or ABANDON."
  }
}

variable "name_prefix" {
  description = "Prefix of the service accounts, the source bucket and the scheduler job. Topic, subscription and function names are fixed by the code (shared/topology.ts)."
  type        = string
  default     = "saga"

  validation {
    # Service account ids are at most 30 characters: "<prefix>-fn-dead-letters" must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{1,10}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-12 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "labels" {
  description = "Labels added to every resource that supports labels."
  type        = map(string)
  default     = {}
}

variable "source_archive" {
  description = "The functions' source archive built by `npm run package`, relative to this directory (or absolute)."
  type        = string
  default     = "build/source.zip"
}

# --- Who may call the API -------------------------------------------------------------------------------------------

variable "api_invoker_members" {
  description = "IAM members allowed to call the api function (roles/run.invoker), e.g. [\"user:you@example.com\", \"group:team@example.com\"]. Empty by default: only principals that already hold run.invoker on the project (e.g. Owner) can call it. Add \"allUsers\" only if you really want a public API."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.api_invoker_members : can(regex("^(allUsers|allAuthenticatedUsers|(user|group|serviceAccount|domain|principal|principalSet):.+)$", m))])
    error_message = "Each member must look like user:EMAIL, group:EMAIL, serviceAccount:EMAIL, domain:DOMAIN, principal://..., principalSet://..., allAuthenticatedUsers or allUsers."
  }
}

# --- Function settings ----------------------------------------------------------------------------------------------

variable "function_memory" {
  description = "Memory of each function instance (Cloud Functions 2nd gen units: M, Mi, G, Gi)."
  type        = string
  default     = "256Mi"
}

variable "function_cpu" {
  description = "vCPUs of each function instance; null lets Cloud Functions derive it from the memory. Must be at least 1 when function_concurrency > 1."
  type        = string
  default     = null
}

variable "function_timeout_seconds" {
  description = "Request timeout of every function. Also the ack deadline of every push subscription (Pub/Sub waits that long for the push response), hence at most 600."
  type        = number
  default     = 60

  validation {
    condition     = var.function_timeout_seconds >= 10 && var.function_timeout_seconds <= 600 && floor(var.function_timeout_seconds) == var.function_timeout_seconds
    error_message = "function_timeout_seconds must be an integer between 10 and 600 (the range of a Pub/Sub ack deadline)."
  }
}

variable "function_min_instances" {
  description = "Minimum instances per function (0 scales to zero; 1 removes cold starts at a cost)."
  type        = number
  default     = 0
}

variable "function_max_instances" {
  description = "Maximum instances per function."
  type        = number
  default     = 10

  validation {
    condition     = var.function_max_instances >= 1
    error_message = "function_max_instances must be at least 1."
  }
}

variable "function_concurrency" {
  description = "Concurrent requests per function instance. Above 1, set function_cpu to at least \"1\"."
  type        = number
  default     = 1

  validation {
    condition     = var.function_concurrency >= 1 && var.function_concurrency <= 1000
    error_message = "function_concurrency must be between 1 and 1000."
  }
}

variable "log_level" {
  description = "SAGA_LOG_LEVEL of the functions."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

# --- Delivery, retries, timeouts (same meaning and defaults as the local environment, contract section 2) ----------

variable "max_delivery_attempts" {
  description = "Dead-letter policy of every push subscription: deliveries before a message goes to <topic>-dlq (SAGA_MAX_DELIVERY_ATTEMPTS)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100 && floor(var.max_delivery_attempts) == var.max_delivery_attempts
    error_message = "max_delivery_attempts must be an integer between 5 and 100 (Pub/Sub's range)."
  }
}

variable "retry_min_backoff_seconds" {
  description = "Retry policy of every push subscription: minimum backoff (SAGA_RETRY_MIN_BACKOFF_S)."
  type        = number
  default     = 1

  validation {
    condition     = var.retry_min_backoff_seconds >= 0 && var.retry_min_backoff_seconds <= 600
    error_message = "retry_min_backoff_seconds must be between 0 and 600."
  }
}

variable "retry_max_backoff_seconds" {
  description = "Retry policy of every push subscription: maximum backoff (SAGA_RETRY_MAX_BACKOFF_S). Must not be below retry_min_backoff_seconds."
  type        = number
  default     = 10

  validation {
    condition     = var.retry_max_backoff_seconds >= 0 && var.retry_max_backoff_seconds <= 600
    error_message = "retry_max_backoff_seconds must be between 0 and 600."
  }
}

variable "step_timeout_ms" {
  description = "A saga step without a reply after this long is timed out by the sweeper (SAGA_STEP_TIMEOUT_MS). The sweeper runs on sweep_schedule, so a timeout is noticed up to one schedule period late."
  type        = number
  default     = 30000

  validation {
    condition     = var.step_timeout_ms >= 100 && var.step_timeout_ms <= 86400000
    error_message = "step_timeout_ms must be between 100 and 86400000."
  }
}

variable "outbox_grace_ms" {
  description = "An outbox record not marked sent after this long is republished by the sweeper (SAGA_OUTBOX_GRACE_MS)."
  type        = number
  default     = 2000

  validation {
    condition     = var.outbox_grace_ms >= 0 && var.outbox_grace_ms <= 3600000
    error_message = "outbox_grace_ms must be between 0 and 3600000."
  }
}

variable "compensation_max_attempts" {
  description = "How many times a timed-out compensation is re-issued before the saga is FAILED (SAGA_COMPENSATION_MAX_ATTEMPTS)."
  type        = number
  default     = 3

  validation {
    condition     = var.compensation_max_attempts >= 1 && var.compensation_max_attempts <= 100
    error_message = "compensation_max_attempts must be between 1 and 100."
  }
}

variable "sweep_batch" {
  description = "Documents the sweeper handles per query and run (SAGA_SWEEP_BATCH)."
  type        = number
  default     = 100

  validation {
    condition     = var.sweep_batch >= 1 && var.sweep_batch <= 500
    error_message = "sweep_batch must be between 1 and 500."
  }
}

variable "sweep_schedule" {
  description = "Cron schedule of the Cloud Scheduler job that publishes a tick to the sweeper (Cloud Scheduler's finest granularity is one minute)."
  type        = string
  default     = "* * * * *"
}

variable "sweep_time_zone" {
  description = "Time zone of sweep_schedule."
  type        = string
  default     = "Etc/UTC"
}

variable "dead_letter_retention" {
  description = "How long the pull subscription on every dead-letter topic keeps messages (a safety copy in case recording fails), as a duration in seconds like \"604800s\" (7 days, at most 31 days)."
  type        = string
  default     = "604800s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.dead_letter_retention))
    error_message = "dead_letter_retention must be a duration in seconds such as \"604800s\"."
  }
}
