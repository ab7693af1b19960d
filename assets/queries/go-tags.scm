; Tag queries for Go, used by tandem's repository index.
; Adapted from tree-sitter-go's queries/tags.scm; see rust-tags.scm for what
; the capture names mean.

; ---- definitions ----
(package_clause (package_identifier) @name) @definition.module
(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(method_elem name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec
  name: (type_identifier) @name
  type: [(type_identifier) (generic_type) (qualified_type) (pointer_type) (array_type) (slice_type)
         (map_type) (channel_type) (function_type) (negated_type) (parenthesized_type)]) @definition.type
(type_alias name: (type_identifier) @name) @definition.type
; Package-level constants. No `name:` field here: with it only the first of `const a, b = 1, 2` matches.
(source_file (const_declaration (const_spec (identifier) @name) @definition.const))

; ---- references: calls ----
(call_expression
  function: [
    (identifier) @name
    (parenthesized_expression (identifier) @name)
    (selector_expression field: (field_identifier) @name)
    (parenthesized_expression (selector_expression field: (field_identifier) @name))
  ]) @reference.call

; ---- references: types (signatures, fields, embedding, literals); predeclared types left out ----
((type_identifier) @name @reference.type
  (#not-any-of? @name
    "any" "bool" "byte" "comparable" "complex64" "complex128" "error" "float32" "float64"
    "int" "int8" "int16" "int32" "int64" "rune" "string"
    "uint" "uint8" "uint16" "uint32" "uint64" "uintptr"))
; `geo.Point` refers to the package `geo` too.
(qualified_type package: (package_identifier) @name) @reference.path

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
; Interface methods show their `type X interface {` line.
[(interface_type) (function_declaration) (method_declaration)] @context.scope
