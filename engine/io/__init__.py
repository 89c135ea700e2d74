"""Reading untrusted bytes: safe YAML and JSON (`yaml_loader`), JSON Schema validation (`schemas`)
and where rulebooks and schemas are found (`paths`). Imports only `engine.errors`."""
