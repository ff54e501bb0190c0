//! `user-list`: every user, read page by page, as an aligned table for people
//! or a JSON array for scripts.

use crate::Refusal;
use serde_json::json;
use shared::accounts::directory;
use shared::store::{Store, UserRecord};

/// Users per read: the directory's page, so a large collection is never one
/// command's worth of documents.
const PAGE: u32 = 100;

/// One listed user.
pub struct Row {
    pub username: String,
    /// `None` when the user's role reference names no role.
    pub role: Option<String>,
    pub active: bool,
    pub change_password: bool,
}

impl From<UserRecord> for Row {
    fn from(user: UserRecord) -> Self {
        Row {
            username: user.username.to_string(),
            role: user.role.map(|role| role.name),
            active: user.active,
            change_password: user.change_password,
        }
    }
}

/// Every user in creation order.
pub async fn all_users(store: &Store) -> Result<Vec<Row>, Refusal> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = directory::users_page(store, after, PAGE)
            .await
            .map_err(Refusal::store)?;
        after = page.users.last().map(|user| user.id);
        rows.extend(page.users.into_iter().map(Row::from));
        if !page.has_next_page || after.is_none() {
            return Ok(rows);
        }
    }
}

/// A JSON array of `{username, role, active, change_password}`; `role` is
/// `null` for a user whose role is gone.
pub fn json(rows: &[Row]) -> String {
    let array: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            json!({
                "username": row.username,
                "role": row.role,
                "active": row.active,
                "change_password": row.change_password,
            })
        })
        .collect();
    serde_json::Value::Array(array).to_string()
}

/// Columns padded to their widest cell. Names are printed escaped: a username
/// stored before the rules refused control characters must not drive the
/// terminal.
pub fn table(rows: &[Row]) -> String {
    let header = ["username", "role", "active", "change_password"].map(str::to_owned);
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            [
                row.username.escape_debug().to_string(),
                row.role
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |role| role.escape_debug().to_string()),
                row.active.to_string(),
                row.change_password.to_string(),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|cell| cell.chars().count());
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(&cells)
        .map(|line| {
            let padded: Vec<String> = line
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_columns_to_the_widest_cell() {
        let rows = [
            Row {
                username: "alice".into(),
                role: Some("admin".into()),
                active: true,
                change_password: false,
            },
            Row {
                username: "bartholomew".into(),
                role: None,
                active: false,
                change_password: true,
            },
        ];
        assert_eq!(
            table(&rows),
            "username     role   active  change_password\n\
             alice        admin  true    false\n\
             bartholomew  -      false   true"
        );
    }
}
