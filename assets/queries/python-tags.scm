; Tag queries for Python, used by tandem's repository index.

; ---- definitions ----
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module (expression_statement (assignment left: (identifier) @name) @definition.const))

; ---- references ----
(call function: (identifier) @name) @reference.call
(call function: (attribute attribute: (identifier) @name)) @reference.call
(import_from_statement name: (dotted_name (identifier) @name)) @reference.import
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @name))) @reference.import
(class_definition superclasses: (argument_list (identifier) @name)) @reference.base
(type (identifier) @name) @reference.type

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
(class_definition body: (block (function_definition) @context.method))
(class_definition body: (block (decorated_definition definition: (function_definition) @context.method)))
[(class_definition) (function_definition)] @context.scope
