//! The database after a load run, held against what the locust users saw:
//! every session's token ids (the JWTs' `uuid` claims) and whether its logout
//! answered 200. A logged-out session must leave nothing behind (no
//! `whitelist_token` entry, no `session_meta` side document), and a refresh
//! that answered 200 must not be lost (its new tokens work, and a session
//! still open at the end has its last pair stored).

use crate::locust::Session;
use e2e::TestDb;
use mongodb::bson::{Bson, Document};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Default, Clone)]
pub struct Audit {
    pub ended: usize,
    pub open: usize,
    pub whitelist: usize,
    pub side_documents: usize,
    /// Whitelist entries whose ids belong to a session that logged out.
    pub left_entries: usize,
    /// Of those, entries of a pair a refresh had replaced: their access
    /// token still passes the guard after the logout.
    pub left_replaced: usize,
    /// Side documents naming a refresh id of a session that logged out.
    pub left_side: usize,
    /// Refreshes answered 200, and those whose new tokens were refused next.
    pub refreshes: usize,
    pub lost_client: usize,
    /// Open sessions whose last access id has no entry, or whose side
    /// document's current refresh id is not the last one issued.
    pub lost_stored: usize,
    /// Entries and side documents of no session the users saw.
    pub unknown: usize,
    /// Side documents without their entry (same `_id`) and entries without a
    /// side document; only for a service that writes them.
    pub orphans: Option<usize>,
}

impl Audit {
    /// Whether nothing was left behind and no rotation was lost.
    pub fn clean(&self) -> bool {
        self.left_entries == 0
            && self.left_side == 0
            && self.lost_client == 0
            && self.lost_stored == 0
            && self.unknown == 0
            && self.orphans.unwrap_or(0) == 0
    }
}

fn text(document: &Document, key: &str) -> String {
    document.get_str(key).unwrap_or_default().to_owned()
}

/// Audits `db` against `sessions`; `side_documents` says whether the service
/// writes `session_meta` (ours does, the package doesn't).
pub async fn check(db: &TestDb, sessions: &[Session], side_documents: bool) -> Audit {
    let entries = db.sessions().await;
    let metas = db.session_metas().await;
    let mut by_access = HashMap::new();
    let mut by_refresh = HashMap::new();
    for (index, session) in sessions.iter().enumerate() {
        by_access.extend(session.access.iter().map(|id| (id.as_str(), index)));
        by_refresh.extend(session.refresh.iter().map(|id| (id.as_str(), index)));
    }
    let mut audit = Audit {
        ended: sessions.iter().filter(|s| s.ended).count(),
        open: sessions.iter().filter(|s| !s.ended).count(),
        whitelist: entries.len(),
        side_documents: metas.len(),
        refreshes: sessions.iter().map(|s| s.refreshed).sum(),
        lost_client: sessions.iter().map(|s| s.rotation_lost).sum(),
        ..Audit::default()
    };
    let mut stored_access = HashSet::new();
    for entry in &entries {
        let access = text(entry, "uuid_access");
        stored_access.insert(access.clone());
        let owner = by_access
            .get(access.as_str())
            .or_else(|| by_refresh.get(text(entry, "uuid_refresh").as_str()));
        match owner.map(|&index| &sessions[index]) {
            None => audit.unknown += 1,
            Some(session) if session.ended => {
                audit.left_entries += 1;
                if session.access.last() != Some(&access) {
                    audit.left_replaced += 1;
                }
            }
            Some(_) => {}
        }
    }
    let mut current_refresh = HashMap::new();
    for meta in &metas {
        let mut ids = vec![text(meta, "access"), text(meta, "refresh")];
        if let Ok(retired) = meta.get_array("retired") {
            ids.extend(retired.iter().filter_map(Bson::as_str).map(str::to_owned));
        }
        let owner = ids
            .iter()
            .find_map(|id| by_refresh.get(id.as_str()).or(by_access.get(id.as_str())));
        match owner.map(|&index| (index, &sessions[index])) {
            None => audit.unknown += 1,
            Some((_, session)) if session.ended => audit.left_side += 1,
            Some((index, _)) => {
                current_refresh.insert(index, text(meta, "refresh"));
            }
        }
    }
    for (index, session) in sessions.iter().enumerate().filter(|(_, s)| !s.ended) {
        let entry_kept = session
            .access
            .last()
            .is_some_and(|id| stored_access.contains(id));
        let side_current = !side_documents || current_refresh.get(&index) == session.refresh.last();
        if !entry_kept || !side_current {
            audit.lost_stored += 1;
        }
    }
    if side_documents {
        let ids = |documents: &[Document]| -> HashSet<String> {
            documents
                .iter()
                .filter_map(|d| d.get("_id").map(Bson::to_string))
                .collect()
        };
        let (entry_ids, meta_ids) = (ids(&entries), ids(&metas));
        let orphans = meta_ids.symmetric_difference(&entry_ids).count();
        audit.orphans = Some(orphans);
    }
    audit
}
