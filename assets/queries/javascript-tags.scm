; Tag queries for JavaScript, used by tandem's repository index (with
; jsx-tags.scm appended: see src/index/lang.rs).
; Adapted from tree-sitter-javascript's queries/tags.scm; see rust-tags.scm for
; what the capture names mean.

; ---- definitions ----
(function_declaration name: (identifier) @name) @definition.function
(generator_function_declaration name: (identifier) @name) @definition.function
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
(field_definition
  property: [(property_identifier) (private_property_identifier)] @name
  value: [(arrow_function) (function_expression)]) @definition.method

(class_declaration name: (identifier) @name) @definition.class
(class name: (identifier) @name) @definition.class
(variable_declarator name: (identifier) @name value: (class !name)) @definition.class

; Top-level `const` bindings of plain values (not functions, classes or calls such as `require`).
(program
  (lexical_declaration kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(number) (string) (template_string) (object) (array) (true) (false) (null) (regex)
              (unary_expression) (binary_expression) (member_expression) (new_expression)]) @definition.const))
(program
  (export_statement
    declaration: (lexical_declaration kind: "const"
      (variable_declarator
        name: (identifier) @name
        value: [(number) (string) (template_string) (object) (array) (true) (false) (null) (regex)
                (unary_expression) (binary_expression) (member_expression) (new_expression)]) @definition.const)))

; ---- references: calls and construction ----
((call_expression function: (identifier) @name) @reference.call
  (#not-eq? @name "require"))
(call_expression function: (member_expression property: (property_identifier) @name)) @reference.call
(new_expression constructor: (identifier) @name) @reference.class
(new_expression constructor: (member_expression property: (property_identifier) @name)) @reference.class

; ---- references: inheritance ----
(class_heritage (identifier) @name) @reference.base
(class_heritage (member_expression property: (property_identifier) @name)) @reference.base

; ---- references: imports (the imported names, not local aliases) ----
(import_specifier name: (identifier) @name) @reference.import
(import_clause (identifier) @name) @reference.import

; ---- context (no @name): read by tags.rs instead of walking up the tree ----
[(class_declaration) (class) (function_declaration) (generator_function_declaration) (method_definition)] @context.scope
(import_statement) @context.use
