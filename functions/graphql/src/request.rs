//! From an HTTP body to GraphQL requests: the standard JSON body
//! `{"query", "variables", "operationName"}` (or a batch: a list of them), or the
//! bare document the seed shows, whatever the `Content-Type`.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{BatchRequest, Request};

/// A batch holds at most this many operations.
pub const MAX_BATCH: usize = 5;
/// Root fields (aliases included) one operation may select: each can be a
/// password hash's worth of work.
pub const MAX_ROOT_FIELDS: usize = 10;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the request body is empty")]
    Empty,
    #[error("the body must be a GraphQL document or a JSON object with a `query`")]
    Shape,
    #[error("a batch may hold at most {MAX_BATCH} operations")]
    BatchTooLarge,
    #[error("an operation may select at most {MAX_ROOT_FIELDS} root fields")]
    TooManyRootFields,
    #[error("fragments may spread fragments at most {MAX_FRAGMENT_NESTING} deep")]
    FragmentsTooDeep,
}

pub fn decode(body: &[u8], content_type: Option<&str>) -> Result<Vec<Request>, RequestError> {
    let text = std::str::from_utf8(body).map_err(|_| RequestError::Shape)?;
    if text.trim().is_empty() {
        return Err(RequestError::Empty);
    }
    let is_graphql = content_type.is_some_and(|ct| ct.starts_with("application/graphql"));
    let requests = if is_graphql {
        vec![Request::new(text)]
    } else {
        match serde_json::from_str::<serde_json::Value>(text) {
            // JSON: it must be the standard body (or a batch of them).
            Ok(value @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                if !has_queries(&value) {
                    return Err(RequestError::Shape);
                }
                match serde_json::from_value::<BatchRequest>(value) {
                    Ok(BatchRequest::Single(request)) => vec![request],
                    Ok(BatchRequest::Batch(requests)) => requests,
                    Err(_) => return Err(RequestError::Shape),
                }
            }
            Ok(_) => return Err(RequestError::Shape),
            // Not JSON: the bare document, as the seed sends it.
            Err(_) => vec![Request::new(text)],
        }
    };
    if requests.len() > MAX_BATCH {
        return Err(RequestError::BatchTooLarge);
    }
    Ok(requests)
}

/// Every request object names its document under `query`.
fn has_queries(value: &serde_json::Value) -> bool {
    let has_query =
        |v: &serde_json::Value| v.get("query").is_some_and(serde_json::Value::is_string);
    match value {
        serde_json::Value::Array(items) => !items.is_empty() && items.iter().all(has_query),
        other => has_query(other),
    }
}

/// The root fields the operation that will run selects, aliases counted and
/// fragments (spread or inline) expanded, so the cap can't be dodged by naming
/// the operation or moving fields into fragments. `None` when the document
/// doesn't parse, or names no operation that could run; async-graphql then
/// refuses it before any resolver runs.
pub fn root_fields(request: &Request) -> Result<Option<Vec<String>>, RequestError> {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return Ok(None);
    };
    let operation = match (&document.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(operation), _) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return Ok(None),
        },
        // One named operation runs without `operationName`; with several, none
        // runs, but every one is held to the cap anyway.
        (DocumentOperations::Multiple(operations), None) => {
            let mut only = None;
            for operation in operations.values() {
                let mut names = Vec::new();
                expand(&operation.node.selection_set.node, &document, &mut names, 0)?;
                only = Some(names);
            }
            return Ok(if operations.len() == 1 { only } else { None });
        }
    };
    let mut names = Vec::new();
    expand(&operation.node.selection_set.node, &document, &mut names, 0)?;
    Ok(Some(names))
}

/// Fragments may spread fragments; deeper than this is refused (a cycle is
/// invalid GraphQL, but this runs before validation).
const MAX_FRAGMENT_NESTING: usize = 8;

/// Appends the field names `selections` selects at this level, through
/// fragments, failing as soon as there are more than [`MAX_ROOT_FIELDS`].
fn expand(
    selections: &SelectionSet,
    document: &ExecutableDocument,
    names: &mut Vec<String>,
    nesting: usize,
) -> Result<(), RequestError> {
    if nesting > MAX_FRAGMENT_NESTING {
        return Err(RequestError::FragmentsTooDeep);
    }
    for item in &selections.items {
        match &item.node {
            Selection::Field(field) => {
                names.push(field.node.name.node.to_string());
                if names.len() > MAX_ROOT_FIELDS {
                    return Err(RequestError::TooManyRootFields);
                }
            }
            Selection::InlineFragment(fragment) => {
                expand(
                    &fragment.node.selection_set.node,
                    document,
                    names,
                    nesting + 1,
                )?;
            }
            Selection::FragmentSpread(spread) => {
                // An unknown fragment fails validation later; nothing to count.
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    expand(
                        &fragment.node.selection_set.node,
                        document,
                        names,
                        nesting + 1,
                    )?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_body_is_a_bare_document() {
        let body = "mutation {\n    update_password (input: {\n        current_password: \"current\"\n    }) {\n        ok\n    }\n}";
        let requests = decode(body.as_bytes(), Some("application/json")).unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].query, body);
        assert_eq!(
            root_fields(&requests[0]).unwrap(),
            Some(vec!["update_password".to_owned()])
        );
    }

    #[test]
    fn the_standard_json_body_and_batches_decode() {
        let body =
            br#"{"query":"query Q { me { username } }","variables":{"a":1},"operationName":"Q"}"#;
        let requests = decode(body, None).unwrap();
        assert_eq!(requests[0].operation_name.as_deref(), Some("Q"));
        let batch = br#"[{"query":"{ me { id } }"},{"query":"{ roles { id } }"}]"#;
        assert_eq!(decode(batch, None).unwrap().len(), 2);
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert_eq!(decode(b"", None).unwrap_err(), RequestError::Empty);
        assert_eq!(decode(b"42", None).unwrap_err(), RequestError::Shape);
        assert_eq!(
            decode(br#"{"nope":1}"#, None).unwrap_err(),
            RequestError::Shape
        );
        assert_eq!(decode(b"[]", None).unwrap_err(), RequestError::Shape);
        let big = format!("[{}]", [r#"{"query":"{me{id}}"}"#; 6].join(","));
        assert_eq!(
            decode(big.as_bytes(), None).unwrap_err(),
            RequestError::BatchTooLarge
        );
    }

    /// `n` aliased `me` fields.
    fn aliases(n: usize) -> String {
        (0..n).map(|i| format!("a{i}: me {{ id }} ")).collect()
    }

    #[test]
    fn aliases_count_against_the_root_field_cap() {
        let request = Request::new(format!("{{ {} }}", aliases(11)));
        assert_eq!(
            root_fields(&request).unwrap_err(),
            RequestError::TooManyRootFields
        );
    }

    #[test]
    fn fragments_are_expanded_into_the_root_fields() {
        assert_eq!(
            root_fields(&Request::new(
                "{ ...F ... on Query { roles { id } } } fragment F on Query { me { id } }"
            ))
            .unwrap(),
            Some(vec!["me".to_owned(), "roles".to_owned()])
        );
    }

    #[test]
    fn unparsable_documents_give_no_field_list() {
        assert_eq!(root_fields(&Request::new("{ me { ")).unwrap(), None);
    }

    #[test]
    fn a_named_operation_without_operation_name_is_held_to_the_cap() {
        let request = Request::new(format!("query Q {{ {} }}", aliases(11)));
        assert_eq!(
            root_fields(&request).unwrap_err(),
            RequestError::TooManyRootFields
        );
    }

    #[test]
    fn fields_behind_fragments_count_against_the_cap() {
        let many = aliases(6);
        let spread =
            format!("{{ ...F ... on Query {{ {many} }} }} fragment F on Query {{ {many} }}");
        assert_eq!(
            root_fields(&Request::new(spread)).unwrap_err(),
            RequestError::TooManyRootFields
        );
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(
            root_fields(&Request::new(cycle)).unwrap_err(),
            RequestError::FragmentsTooDeep
        );
    }
}
