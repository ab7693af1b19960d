; Tag queries for Java, used by tandem's repository index.
; Adapted from tree-sitter-java's queries/tags.scm; see rust-tags.scm for what
; the capture names mean. Constructors are left out, as upstream.

; ---- definitions ----
(class_declaration name: (identifier) @name) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(annotation_type_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(enum_constant name: (identifier) @name) @definition.variant
(method_declaration name: (identifier) @name) @definition.method
; `static final` fields are constants.
(field_declaration
  (modifiers "static" "final")
  declarator: (variable_declarator name: (identifier) @name)) @definition.const

; ---- references: calls (and a capitalised receiver, by convention a class: `Math.max`) ----
(method_invocation name: (identifier) @name) @reference.call
((method_invocation object: (identifier) @name) @reference.path
  (#match? @name "^[A-Z]"))

; ---- references: types (signatures, fields, `new`, `extends`, `implements`, generics) ----
(type_identifier) @name @reference.type
(marker_annotation name: (identifier) @name) @reference.annotation
(annotation name: (identifier) @name) @reference.annotation

; ---- references: imports (the imported name; `import a.b.*;` names nothing) ----
(import_declaration (scoped_identifier name: (identifier) @name) .) @reference.import

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
[(class_declaration) (record_declaration) (interface_declaration) (annotation_type_declaration)
 (enum_declaration) (method_declaration) (constructor_declaration)] @context.scope
(import_declaration) @context.use
; A generic parameter's declaration defines the name rather than using it.
(type_parameter (type_identifier) @context.generic)
