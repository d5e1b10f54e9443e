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

variable "console_invoker_members" {
  description = "IAM members allowed to open the operator console (roles/run.invoker on the console function), e.g. [\"group:saga-operators@example.com\"]. The console shows every saga's data and can redrive dead letters: grant it to operators only. Empty by default: only principals that already hold run.invoker on the project (e.g. Owner) can open it."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.console_invoker_members : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))])
    error_message = "Each member must look like user:EMAIL, group:EMAIL, serviceAccount:EMAIL, domain:DOMAIN, principal://... or principalSet://... (the console is never public: no allUsers, no allAuthenticatedUsers)."
  }
}

# --- Function settings ----------------------------------------------------------------------------------------------

variable "function_settings" {
  description = "Capacity of each function, by deployed name; a function without its own entry gets the \"default\" entry (so a participant added to shared/topology.ts is covered). cpu: vCPUs (at least \"1\" when concurrency > 1); memory: Cloud Functions 2nd gen units (M, Mi, G, Gi); concurrency: requests one instance serves at a time; min/max_instances: instance limits; timeout_seconds: request timeout, also the ack deadline of the push subscriptions feeding the function (hence 10-600). Setting this variable replaces the whole table: copy it from terraform.tfvars.example. Why these values: README.md, \"Capacity and delivery settings\"."
  type = map(object({
    cpu             = string
    memory          = string
    concurrency     = number
    min_instances   = number
    max_instances   = number
    timeout_seconds = number
  }))
  default = {
    # Participants (credit, inventory, payment, ...) and anything else without its own entry.
    default        = { cpu = "1", memory = "512Mi", concurrency = 80, min_instances = 0, max_instances = 10, timeout_seconds = 60 }
    api            = { cpu = "1", memory = "512Mi", concurrency = 80, min_instances = 1, max_instances = 20, timeout_seconds = 60 }
    orchestrator   = { cpu = "1", memory = "512Mi", concurrency = 80, min_instances = 0, max_instances = 20, timeout_seconds = 60 }
    sweeper        = { cpu = "1", memory = "512Mi", concurrency = 4, min_instances = 0, max_instances = 1, timeout_seconds = 120 }
    "dead-letters" = { cpu = "1", memory = "512Mi", concurrency = 80, min_instances = 0, max_instances = 5, timeout_seconds = 60 }
    console        = { cpu = "1", memory = "512Mi", concurrency = 80, min_instances = 0, max_instances = 2, timeout_seconds = 300 }
  }

  validation {
    condition     = contains(keys(var.function_settings), "default")
    error_message = "function_settings must have a \"default\" entry (used by every function without its own)."
  }

  validation {
    condition     = alltrue([for name, s in var.function_settings : s.concurrency >= 1 && s.concurrency <= 1000 && floor(s.concurrency) == s.concurrency])
    error_message = "function_settings: concurrency must be an integer between 1 and 1000."
  }

  validation {
    condition     = alltrue([for name, s in var.function_settings : try(tonumber(s.cpu) > 0 && tonumber(s.cpu) <= 8, false)])
    error_message = "function_settings: cpu must be a number of vCPUs between 0 and 8, such as \"1\" or \"0.5\"."
  }

  validation {
    # Cloud Functions 2nd gen (Cloud Run) serves more than one request per instance only with at least one vCPU.
    condition     = alltrue([for name, s in var.function_settings : s.concurrency == 1 || try(tonumber(s.cpu) >= 1, false)])
    error_message = "function_settings: cpu must be at least \"1\" where concurrency > 1."
  }

  validation {
    condition     = alltrue([for name, s in var.function_settings : can(regex("^[0-9]+(k|M|G|Mi|Gi)?$", s.memory))])
    error_message = "function_settings: memory must be a size such as \"512Mi\" or \"1Gi\" (units k, M, G, Mi, Gi)."
  }

  validation {
    condition     = alltrue([for name, s in var.function_settings : s.min_instances >= 0 && s.max_instances >= 1 && s.min_instances <= s.max_instances && floor(s.min_instances) == s.min_instances && floor(s.max_instances) == s.max_instances])
    error_message = "function_settings: min_instances and max_instances must be integers with 0 <= min_instances <= max_instances and max_instances >= 1."
  }

  validation {
    condition     = alltrue([for name, s in var.function_settings : s.timeout_seconds >= 10 && s.timeout_seconds <= 600 && floor(s.timeout_seconds) == s.timeout_seconds])
    error_message = "function_settings: timeout_seconds must be an integer between 10 and 600 (the range of a Pub/Sub ack deadline)."
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

variable "metrics" {
  description = "SAGA_METRICS of the functions: \"cloud\" exports the OpenTelemetry metrics to Cloud Monitoring (workload.googleapis.com/saga.*), \"off\" records nothing."
  type        = string
  default     = "cloud"

  validation {
    condition     = contains(["cloud", "off"], var.metrics)
    error_message = "metrics must be cloud or off."
  }
}

variable "metrics_export_interval_ms" {
  description = "SAGA_METRICS_EXPORT_MS: how often each function instance exports its metrics to Cloud Monitoring (at least 10000: Cloud Monitoring accepts one point per time series every 5 s at most)."
  type        = number
  default     = 60000

  validation {
    condition     = var.metrics_export_interval_ms >= 10000 && var.metrics_export_interval_ms <= 3600000
    error_message = "metrics_export_interval_ms must be from 10000 to 3600000."
  }
}

variable "start_versions" {
  description = "SAGA_START_VERSIONS: the definition version new sagas of a type start on, e.g. \"trip-booking=1\" (comma-separated); empty = the newest version of every type. Sagas already running finish on the version they started with; a type or version the deployed code does not know stops the functions."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^(\\s*[A-Za-z0-9_.-]{1,64}\\s*=\\s*[1-9][0-9]{0,5}\\s*)?(,(\\s*[A-Za-z0-9_.-]{1,64}\\s*=\\s*[1-9][0-9]{0,5}\\s*)?)*$", var.start_versions))
    error_message = "start_versions must be a comma-separated list of <saga type>=<version>, e.g. \"trip-booking=1\"."
  }
}

# --- Delivery, retries, timeouts (same meaning as the local SAGA_* variables, contract section 2) ------------------
# The local defaults (5 attempts, 1-10 s backoff) suit the emulator, where nothing scales. The cloud defaults below
# give a message at least the schedule-to-start time before it is dead-lettered: README.md, "Capacity and delivery
# settings".

variable "max_delivery_attempts" {
  description = "Dead-letter policy of every push subscription: deliveries before a message goes to <topic>-dlq (SAGA_MAX_DELIVERY_ATTEMPTS). Pub/Sub counts a push answered 429 (no free instance) as a failed delivery. With the retry backoff it must give a message at least schedule_to_start_ms (checked at plan)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100 && floor(var.max_delivery_attempts) == var.max_delivery_attempts
    error_message = "max_delivery_attempts must be an integer between 5 and 100 (Pub/Sub's range)."
  }
}

variable "retry_min_backoff_seconds" {
  description = "Retry policy of every push subscription: minimum backoff in seconds (SAGA_RETRY_MIN_BACKOFF_S). Longer than a cold start, so the first retry finds the instance the failed delivery made Cloud Run start."
  type        = number
  default     = 10

  validation {
    condition     = var.retry_min_backoff_seconds >= 0 && var.retry_min_backoff_seconds <= 600
    error_message = "retry_min_backoff_seconds must be between 0 and 600."
  }
}

variable "retry_max_backoff_seconds" {
  description = "Retry policy of every push subscription: maximum backoff in seconds (SAGA_RETRY_MAX_BACKOFF_S). Must not be below retry_min_backoff_seconds."
  type        = number
  default     = 600

  validation {
    condition     = var.retry_max_backoff_seconds >= 0 && var.retry_max_backoff_seconds <= 600
    error_message = "retry_max_backoff_seconds must be between 0 and 600."
  }
}

variable "step_timeout_ms" {
  description = "A saga step without a reply after this long is timed out by the sweeper (SAGA_STEP_TIMEOUT_MS). Each sweeper invocation (one per sweep_schedule tick) sweeps every sweep_interval_ms for sweep_budget_ms, so a timeout is noticed about sweep_interval_ms late, at worst a tick period minus sweep_budget_ms plus sweep_interval_ms."
  type        = number
  default     = 30000

  validation {
    condition     = var.step_timeout_ms >= 100 && var.step_timeout_ms <= 86400000
    error_message = "step_timeout_ms must be between 100 and 86400000."
  }
}

variable "schedule_to_start_ms" {
  description = "Longest a command may wait to be taken by a busy participant before its step is timed out as lost (SAGA_SCHEDULE_TO_START_MS). Must not exceed the time the retry policy gives a message before dead-lettering it (checked at plan)."
  type        = number
  default     = 600000

  validation {
    condition     = var.schedule_to_start_ms >= 1000 && var.schedule_to_start_ms <= 86400000 && floor(var.schedule_to_start_ms) == var.schedule_to_start_ms
    error_message = "schedule_to_start_ms must be an integer between 1000 and 86400000."
  }
}

variable "throughput_per_second" {
  description = "Sagas per second the deployment finishes (SAGA_THROUGHPUT_PER_S); the api's admission bound (429 beyond it) derives from it. function_settings must give the functions the capacity for it: README.md, \"Capacity and delivery settings\"."
  type        = number
  default     = 100

  validation {
    condition     = var.throughput_per_second > 0 && var.throughput_per_second <= 100000
    error_message = "throughput_per_second must be above 0 and at most 100000."
  }
}

variable "max_queue_seconds" {
  description = "The api accepts at most throughput_per_second x this many sagas in flight (SAGA_MAX_QUEUE_S): how long an accepted saga may queue behind others."
  type        = number
  default     = 30

  validation {
    condition     = var.max_queue_seconds > 0 && var.max_queue_seconds <= 3600
    error_message = "max_queue_seconds must be above 0 and at most 3600."
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

variable "sweep_interval_ms" {
  description = "Pause between two sweeps within one sweeper invocation (SAGA_SWEEP_INTERVAL_MS)."
  type        = number
  default     = 5000

  validation {
    condition     = var.sweep_interval_ms >= 50 && var.sweep_interval_ms <= 3600000 && floor(var.sweep_interval_ms) == var.sweep_interval_ms
    error_message = "sweep_interval_ms must be an integer between 50 and 3600000."
  }
}

variable "sweep_budget_ms" {
  description = "How long one sweeper invocation (one Cloud Scheduler tick) keeps sweeping, every sweep_interval_ms (SAGA_SWEEP_BUDGET_MS). Below the tick period (one minute), so invocations do not overlap, and below the sweeper's timeout_seconds, which is also its subscription's ack deadline (checked at plan)."
  type        = number
  default     = 50000

  validation {
    condition     = var.sweep_budget_ms >= 0 && var.sweep_budget_ms <= 600000 && floor(var.sweep_budget_ms) == var.sweep_budget_ms
    error_message = "sweep_budget_ms must be an integer between 0 and 600000."
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
  description = "How long the pull subscription on every dead-letter topic keeps messages (a safety copy in case recording fails), as a duration in seconds like \"604800s\" (7 days). Pub/Sub accepts 600s (10 minutes) to 2678400s (31 days)."
  type        = string
  default     = "604800s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.dead_letter_retention))
    error_message = "dead_letter_retention must be a duration in whole seconds such as \"604800s\"."
  }

  validation {
    # Pub/Sub's bounds on a subscription's message_retention_duration.
    condition     = try(tonumber(trimsuffix(var.dead_letter_retention, "s")) >= 600 && tonumber(trimsuffix(var.dead_letter_retention, "s")) <= 2678400, false)
    error_message = "dead_letter_retention must be between \"600s\" (10 minutes) and \"2678400s\" (31 days), Pub/Sub's bounds on message retention."
  }
}
