# The topology, generated from shared/topology.ts and shared/runtime/store/collections.ts into topology.auto.tfvars.json
# by `npm run gen:terraform` (emulator/gen-terraform-topology.ts). Do not set these variables by hand:
# test/unit/terraform.test.ts fails when the committed file is not what the generator produces from the code.

variable "topics" {
  description = "Generated. Source topics (orchestrator -> participants, participants -> orchestrator, scheduler -> sweeper)."
  type        = list(string)
}

variable "dead_letter_topics" {
  description = "Generated. The <topic>-dlq dead-letter topics."
  type        = list(string)
}

variable "subscriptions" {
  description = "Generated. Push subscriptions keyed by name: topic, consuming function, dead-letter topic (null on the dead-letter topics themselves), whether the consumer relies on ordering keys."
  type = map(object({
    name              = string
    topic             = string
    consumer          = string
    dead_letter_topic = string
    ordered           = bool
  }))
}

variable "functions" {
  description = "Generated. Functions keyed by deployed name: exported entry point, trigger (http = called by users, push = only by Pub/Sub), topics it publishes to."
  type = map(object({
    name        = string
    entry_point = string
    trigger     = string
    publishes   = list(string)
  }))
}

variable "publisher_bindings" {
  description = "Generated. One entry per (function, topic it publishes to): where each runtime service account may publish."
  type = map(object({
    function = string
    topic    = string
  }))
}

variable "api_function" {
  description = "Generated. Deployed name of the HTTP API function."
  type        = string
}

variable "console_function" {
  description = "Generated. Deployed name of the operator console function."
  type        = string
}

variable "sweep" {
  description = "Generated. Topic and message Cloud Scheduler publishes to drive the sweeper."
  type = object({
    topic   = string
    message = map(string)
  })
}

variable "indexes" {
  description = "Generated. Composite Firestore indexes the code's queries need (shared/runtime/store/collections.ts INDEXES)."
  type = map(object({
    collection = string
    fields = list(object({
      field_path = string
      order      = string
    }))
  }))
}

variable "ttl_fields" {
  description = "Generated. Firestore fields holding an expiry timestamp; each gets a TTL policy (shared/runtime/store/collections.ts TTL_FIELDS)."
  type = map(object({
    collection = string
    field      = string
  }))
}

locals {
  all_topics = toset(concat(var.topics, var.dead_letter_topics))

  # Push subscriptions on source topics carry a dead-letter policy; those on the dead-letter topics do not.
  source_subscriptions      = { for name, s in var.subscriptions : name => s if s.dead_letter_topic != null }
  dead_letter_subscriptions = { for name, s in var.subscriptions : name => s if s.dead_letter_topic == null }

  # A pull subscription on every dead-letter topic keeps a copy of everything dead-lettered, so nothing is lost
  # while the dead-letters function is not deployed yet or cannot record it.
  dead_letter_pull_subscriptions = { for t in var.dead_letter_topics : "${t}--retained" => t }

  # Functions only Pub/Sub calls: the push account may invoke exactly these.
  push_functions = { for name, f in var.functions : name => f if f.trigger == "push" }
}
