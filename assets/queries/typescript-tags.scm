; Tag queries for TypeScript, used by tandem's repository index.
; Complete on its own: the JavaScript patterns (with TypeScript's node names)
; plus tree-sitter-typescript's queries/tags.scm additions. TSX files get this
; file plus jsx-tags.scm. See rust-tags.scm for what the capture names mean.

; ---- definitions ----
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
(function_signature name: (identifier) @name) @definition.function
(function_expression name: (identifier) @name) @definition.function
(generator_function name: (identifier) @name) @definition.function
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function
(assignment_expression
  left: [(identifier) @name (member_expression property: (property_identifier) @name)]
  right: [(arrow_function) (function_expression) (generator_function)]) @definition.function
(pair
  key: (property_identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function

((method_definition name: [(property_identifier) (private_property_identifier)] @name) @definition.method
  (#not-eq? @name "constructor"))
(method_signature name: [(property_identifier) (private_property_identifier)] @name) @definition.method
(abstract_method_signature name: [(property_identifier) (private_property_identifier)] @name) @definition.method
(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  value: [(arrow_function) (function_expression)]) @definition.method

(class_declaration name: (type_identifier) @name) @definition.class
(abstract_class_declaration name: (type_identifier) @name) @definition.class
(class name: (type_identifier) @name) @definition.class
(variable_declarator name: (identifier) @name value: (class !name)) @definition.class
(interface_declaration name: (type_identifier) @name) @definition.interface
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.enum
(enum_body name: (property_identifier) @name @definition.variant)
(enum_body (enum_assignment name: (property_identifier) @name) @definition.variant)
(internal_module name: (identifier) @name) @definition.module
(module name: (identifier) @name) @definition.module

; Top-level `const` bindings of plain values (not functions, classes or calls such as `require`).
(program
  (lexical_declaration kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(number) (string) (template_string) (object) (array) (true) (false) (null) (regex)
              (unary_expression) (binary_expression) (member_expression) (new_expression)
              (as_expression) (satisfies_expression)]) @definition.const))
(program
  (export_statement
    declaration: (lexical_declaration kind: "const"
      (variable_declarator
        name: (identifier) @name
        value: [(number) (string) (template_string) (object) (array) (true) (false) (null) (regex)
                (unary_expression) (binary_expression) (member_expression) (new_expression)
                (as_expression) (satisfies_expression)]) @definition.const)))

; ---- references: calls and construction ----
((call_expression function: (identifier) @name) @reference.call
  (#not-eq? @name "require"))
(call_expression function: (member_expression property: (property_identifier) @name)) @reference.call
(new_expression constructor: (identifier) @name) @reference.class
(new_expression constructor: (member_expression property: (property_identifier) @name)) @reference.class

; ---- references: inheritance (`implements` and interface `extends` are types, below) ----
(extends_clause value: (identifier) @name) @reference.base
(extends_clause value: (member_expression property: (property_identifier) @name)) @reference.base

; ---- references: types (annotations, signatures, generics, heritage) ----
(type_identifier) @name @reference.type
(nested_type_identifier module: (identifier) @name) @reference.path

; ---- references: imports (the imported names, not local aliases) ----
(import_specifier name: (identifier) @name) @reference.import
(import_clause (identifier) @name) @reference.import

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
[(class_declaration) (abstract_class_declaration) (class) (interface_declaration) (enum_declaration)
 (internal_module) (module) (function_declaration) (generator_function_declaration) (method_definition)] @context.scope
(import_statement) @context.use
; A generic parameter's declaration defines the name rather than using it.
(type_parameter name: (type_identifier) @context.generic)
