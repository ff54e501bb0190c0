//! The compatibility check the shared test server's proxy runs on every
//! message ([`crate::proxy::Proxy::checking_compatibility`]): it refuses, with
//! a MongoDB error, every command, aggregation stage or operator outside the
//! profile of what MongoDB 4.4+ and Amazon DocumentDB 5.0 both support
//! (`tests/compat/mongodb-4.4-documentdb-5.0.json`), and records every name
//! it saw ([`compat_recording`]).

use mongodb::bson::{Bson, Document, RawDocument};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// The compatibility profile: `tests/compat/mongodb-4.4-documentdb-5.0.json`.
#[derive(serde::Deserialize)]
pub struct Profile {
    pub name: String,
    pub sources: Vec<String>,
    commands: BTreeSet<String>,
    command_options_refused: BTreeSet<String>,
    collmod_options: BTreeSet<String>,
    index_options: BTreeSet<String>,
    query_operators: BTreeSet<String>,
    update_operators: BTreeSet<String>,
    update_modifiers: BTreeSet<String>,
    aggregation_stages: BTreeSet<String>,
    lookup_options: BTreeSet<String>,
    aggregation_operators: BTreeSet<String>,
}

impl Profile {
    pub fn get() -> &'static Profile {
        static PROFILE: OnceLock<Profile> = OnceLock::new();
        PROFILE.get_or_init(|| {
            serde_json::from_str(include_str!("../compat/mongodb-4.4-documentdb-5.0.json"))
                .expect("the compatibility profile is valid JSON")
        })
    }

    /// Whether `name` of `kind` (as [`compat_recording`] names kinds) is in
    /// the profile.
    pub fn allows(&self, kind: &str, name: &str) -> bool {
        let list = match kind {
            "command" => {
                return self
                    .commands
                    .iter()
                    .any(|command| command.eq_ignore_ascii_case(name))
            }
            "query" => &self.query_operators,
            "update" => &self.update_operators,
            "update modifier" => &self.update_modifiers,
            "stage" => &self.aggregation_stages,
            "$lookup option" => &self.lookup_options,
            "expression" => &self.aggregation_operators,
            "index option" => &self.index_options,
            "collMod option" => &self.collmod_options,
            "command option" => return !self.command_options_refused.contains(name),
            _ => return false,
        };
        list.contains(name)
    }
}

/// What the compatibility proxies have seen in this process: every
/// `kind name` (`command find`, `stage $lookup`, `update $inc`, `query $in`,
/// ...) with how often, and every refusal.
#[derive(Default, Clone, Debug)]
pub struct Recording {
    pub seen: BTreeMap<String, usize>,
    pub refused: Vec<String>,
}

pub(crate) fn shared_recording() -> &'static Arc<Mutex<Recording>> {
    static RECORDING: OnceLock<Arc<Mutex<Recording>>> = OnceLock::new();
    RECORDING.get_or_init(Arc::default)
}

/// A copy of everything the process's compatibility proxy saw so far.
pub fn compat_recording() -> Recording {
    shared_recording()
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default()
}

pub(crate) struct Check {
    pub(crate) refuse: bool,
    pub(crate) recording: Arc<Mutex<Recording>>,
}

impl Check {
    /// The refusal to answer instead of forwarding `message`, if any.
    pub(crate) fn inspect(&self, message: &[u8]) -> Option<Vec<u8>> {
        const OP_QUERY: i32 = 2004;
        const OP_MSG: i32 = 2013;
        const OP_COMPRESSED: i32 = 2012;
        let opcode = i32::from_le_bytes(message.get(12..16)?.try_into().ok()?);
        let mut found = Found::default();
        let request_id = i32::from_le_bytes(message.get(4..8)?.try_into().ok()?);
        let mut more_to_come = false;
        match opcode {
            OP_MSG => {
                let flags = u32::from_le_bytes(message.get(16..20)?.try_into().ok()?);
                more_to_come = flags & 2 != 0;
                let end = if flags & 1 != 0 {
                    message.len().saturating_sub(4)
                } else {
                    message.len()
                };
                match op_msg_sections(&message[20..end]) {
                    Some((body, sequences)) => found.command(&body, &sequences),
                    None => found.violation("an OP_MSG the proxy cannot read".to_owned()),
                }
            }
            OP_QUERY => match op_query_body(message) {
                Some(body) => found.command(&body, &[]),
                None => found.violation("an OP_QUERY the proxy cannot read".to_owned()),
            },
            OP_COMPRESSED => found.violation("a compressed message (cannot be checked)".to_owned()),
            other => found.violation(format!("wire opcode {other}")),
        }
        let mut recording = self.recording.lock().ok()?;
        for name in found.seen {
            let count = recording.seen.entry(name.clone()).or_default();
            *count += 1;
            if *count == 1 {
                log_first_sight(&name);
            }
        }
        if found.violations.is_empty() {
            return None;
        }
        let errmsg = format!(
            "{} is outside the compatibility profile ({}): {}",
            found.target,
            Profile::get().name,
            found.violations.join("; ")
        );
        recording.refused.push(errmsg.clone());
        drop(recording);
        if !self.refuse || more_to_come {
            return None;
        }
        Some(error_reply(request_id, &errmsg))
    }
}

/// With `E2E_COMPAT_LOG` set to a file, each name is appended to it the first
/// time a proxy sees it: the whole suite's list, whatever the test order.
fn log_first_sight(name: &str) {
    if let Some(path) = std::env::var_os("E2E_COMPAT_LOG") {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{name}");
        }
    }
}

/// An `OP_MSG` reply `{ok: 0, errmsg, code: 2, codeName: "BadValue"}`.
fn error_reply(response_to: i32, errmsg: &str) -> Vec<u8> {
    let body = mongodb::bson::doc! {
        "ok": 0.0, "errmsg": errmsg, "code": 2, "codeName": "BadValue",
    };
    let mut bytes = Vec::new();
    body.to_writer(&mut bytes).expect("a BSON document");
    let length = i32::try_from(16 + 4 + 1 + bytes.len()).expect("a small reply");
    let mut reply = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    reply.extend_from_slice(&length.to_le_bytes());
    reply.extend_from_slice(&0i32.to_le_bytes());
    reply.extend_from_slice(&response_to.to_le_bytes());
    reply.extend_from_slice(&2013i32.to_le_bytes());
    reply.extend_from_slice(&0u32.to_le_bytes());
    reply.push(0);
    reply.extend_from_slice(&bytes);
    reply
}

/// A document sequence of an `OP_MSG` (section kind 1): identifier, documents.
type Sequence = (String, Vec<Document>);

/// An `OP_MSG`'s body (section kind 0) and document sequences (kind 1, by
/// identifier).
fn op_msg_sections(mut sections: &[u8]) -> Option<(Document, Vec<Sequence>)> {
    let mut body = None;
    let mut sequences = Vec::new();
    while let Some((&kind, rest)) = sections.split_first() {
        let size = usize::try_from(i32::from_le_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
        match kind {
            0 => {
                body = Some(
                    Document::try_from(RawDocument::from_bytes(rest.get(..size)?).ok()?).ok()?,
                );
                sections = rest.get(size..)?;
            }
            1 => {
                let section = rest.get(4..size)?;
                let end = section.iter().position(|&byte| byte == 0)?;
                let identifier = String::from_utf8_lossy(&section[..end]).into_owned();
                let mut documents = Vec::new();
                let mut rest_docs = &section[end + 1..];
                while rest_docs.len() >= 4 {
                    let len = usize::try_from(i32::from_le_bytes(rest_docs[..4].try_into().ok()?))
                        .ok()?;
                    let raw = RawDocument::from_bytes(rest_docs.get(..len)?).ok()?;
                    documents.push(Document::try_from(raw).ok()?);
                    rest_docs = &rest_docs[len..];
                }
                sequences.push((identifier, documents));
                sections = rest.get(size..)?;
            }
            _ => return None,
        }
    }
    Some((body?, sequences))
}

/// An `OP_QUERY`'s query document (legacy handshakes).
fn op_query_body(message: &[u8]) -> Option<Document> {
    let rest = message.get(20..)?;
    let end = rest.iter().position(|&byte| byte == 0)?;
    let query = rest.get(end + 1 + 8..)?;
    let size = usize::try_from(i32::from_le_bytes(query.get(..4)?.try_into().ok()?)).ok()?;
    let mut body = Document::try_from(RawDocument::from_bytes(query.get(..size)?).ok()?).ok()?;
    // `{$query: {...}, $readPreference: ...}` wraps the command.
    if let Some(Bson::Document(inner)) = body.remove("$query") {
        body = inner;
    }
    Some(body)
}

/// A field every command may carry (session, cluster time, read preference,
/// concerns), not an option of the command itself.
fn is_generic(key: &str) -> bool {
    key.starts_with('$')
        || matches!(
            key,
            "lsid"
                | "txnNumber"
                | "autocommit"
                | "startTransaction"
                | "writeConcern"
                | "readConcern"
                | "comment"
                | "maxTimeMS"
        )
}

/// What one command holds: every `kind name`, and what is outside the profile.
#[derive(Default)]
struct Found {
    /// `command on collection`, for the error message.
    target: String,
    seen: BTreeSet<String>,
    violations: Vec<String>,
}

impl Found {
    fn violation(&mut self, what: String) {
        self.violations.push(what);
    }

    fn name(&mut self, kind: &str, name: &str) {
        self.seen.insert(format!("{kind} {name}"));
        if !Profile::get().allows(kind, name) {
            self.violations.push(format!("{kind} {name}"));
        }
    }

    fn command(&mut self, body: &Document, sequences: &[Sequence]) {
        let Some(name) = body.keys().next().cloned() else {
            return self.violation("an empty command".to_owned());
        };
        self.target = match body.get(&name) {
            Some(Bson::String(collection)) => format!("{name} on {collection}"),
            _ => name.clone(),
        };
        self.name("command", &name);
        for option in body.keys().skip(1).filter(|key| !is_generic(key)) {
            if !Profile::get().allows("command option", option) {
                self.name("command option", option);
            }
        }
        // A field sent as a document sequence, or in the body.
        let field = |field: &str| -> Vec<Document> {
            if let Some((_, documents)) = sequences.iter().find(|(id, _)| id == field) {
                return documents.clone();
            }
            match body.get_array(field) {
                Ok(items) => items
                    .iter()
                    .filter_map(|item| item.as_document().cloned())
                    .collect(),
                Err(_) => Vec::new(),
            }
        };
        match name.to_ascii_lowercase().as_str() {
            "find" => {
                if let Ok(filter) = body.get_document("filter") {
                    self.filter(filter);
                }
            }
            "count" | "distinct" => {
                if let Ok(filter) = body.get_document("query") {
                    self.filter(filter);
                }
            }
            "aggregate" => self.pipeline(body.get("pipeline")),
            "findandmodify" => {
                if let Ok(filter) = body.get_document("query") {
                    self.filter(filter);
                }
                if let Some(update) = body.get("update") {
                    self.update(update);
                }
            }
            "update" => {
                for statement in field("updates") {
                    if let Ok(filter) = statement.get_document("q") {
                        self.filter(filter);
                    }
                    if let Some(update) = statement.get("u") {
                        self.update(update);
                    }
                }
            }
            "delete" => {
                for statement in field("deletes") {
                    if let Ok(filter) = statement.get_document("q") {
                        self.filter(filter);
                    }
                }
            }
            "createindexes" => {
                for index in field("indexes") {
                    for option in index.keys() {
                        self.name("index option", option);
                    }
                }
            }
            "collmod" => {
                for option in body.keys().filter(|key| !is_generic(key)) {
                    self.name("collMod option", option);
                }
                if let Ok(index) = body.get_document("index") {
                    for option in index.keys() {
                        self.name("collMod option", option);
                    }
                }
            }
            "listcollections" if body.contains_key("filter") => {
                self.violation("listCollections with a filter (DocumentDB ignores it)".to_owned());
            }
            _ => {}
        }
    }

    /// A query filter: its operators, whatever the nesting.
    fn filter(&mut self, filter: &Document) {
        for (key, value) in filter {
            match key.as_str() {
                "$and" | "$or" | "$nor" => {
                    self.name("query", key);
                    if let Bson::Array(items) = value {
                        for item in items {
                            if let Bson::Document(inner) = item {
                                self.filter(inner);
                            }
                        }
                    }
                }
                _ if key.starts_with('$') => self.name("query", key),
                _ => self.condition(value),
            }
        }
    }

    /// The value a filter gives a field: a literal, or operators.
    fn condition(&mut self, value: &Bson) {
        let Bson::Document(operators) = value else {
            return;
        };
        // A DBRef or other literal document matched whole.
        if !operators
            .keys()
            .next()
            .is_some_and(|key| key.starts_with('$'))
            || operators.contains_key("$ref")
        {
            return;
        }
        for (operator, operand) in operators {
            self.name("query", operator);
            match (operator.as_str(), operand) {
                ("$not", inner) => self.condition(inner),
                ("$elemMatch", Bson::Document(inner)) => self.filter(inner),
                _ => {}
            }
        }
    }

    /// An update: classic operators only; a pipeline is refused.
    fn update(&mut self, update: &Bson) {
        match update {
            Bson::Array(stages) => {
                self.violation(format!(
                    "an aggregation-pipeline update ({} stages)",
                    stages.len()
                ));
                for stage in stages {
                    if let Bson::Document(stage) = stage {
                        for (name, body) in stage {
                            self.name("stage", name);
                            self.expression(body);
                        }
                    }
                }
            }
            Bson::Document(operators) => {
                let replacement = !operators.keys().any(|key| key.starts_with('$'));
                if replacement {
                    return;
                }
                for (operator, fields) in operators {
                    self.name("update", operator);
                    if operator != "$push" && operator != "$addToSet" {
                        continue;
                    }
                    let Bson::Document(fields) = fields else {
                        continue;
                    };
                    for value in fields.values() {
                        if let Bson::Document(modifiers) = value {
                            for modifier in modifiers.keys().filter(|key| key.starts_with('$')) {
                                self.name("update modifier", modifier);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// An aggregation pipeline: its stages, and their operators.
    fn pipeline(&mut self, pipeline: Option<&Bson>) {
        let Some(Bson::Array(stages)) = pipeline else {
            return;
        };
        for stage in stages {
            let Bson::Document(stage) = stage else {
                continue;
            };
            for (name, body) in stage {
                self.name("stage", name);
                match (name.as_str(), body) {
                    ("$match", Bson::Document(filter)) => self.filter(filter),
                    ("$lookup", Bson::Document(lookup)) => {
                        for option in lookup.keys() {
                            self.name("$lookup option", option);
                        }
                        self.pipeline(lookup.get("pipeline"));
                    }
                    ("$limit" | "$skip" | "$sort" | "$count" | "$sample", _) => {}
                    _ => self.expression(body),
                }
            }
        }
    }

    /// Aggregation expressions: every `$operator` key, however deep.
    fn expression(&mut self, value: &Bson) {
        match value {
            Bson::Document(document) => {
                for (key, inner) in document {
                    if key.starts_with('$') {
                        self.name("expression", key);
                        if key == "$literal" {
                            continue;
                        }
                    }
                    self.expression(inner);
                }
            }
            Bson::Array(items) => {
                for item in items {
                    self.expression(item);
                }
            }
            _ => {}
        }
    }
}
