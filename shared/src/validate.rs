//! Request body validation with the Python service's rules and Cerberus' messages,
//! so clients that display `errors` keep showing the same text.

use crate::error::{FieldErrors, ServiceError};
use crate::settings::AccountRules;
use serde_json::{Map, Value};

/// Longer inputs are refused before any hashing work.
pub use crate::ids::USERNAME_MAX_LEN;
pub const PASSWORD_MAX_LEN: usize = 1024;

pub const REQUIRED: &str = "required field";
pub const NOT_STRING: &str = "must be of string type";
pub const EMPTY: &str = "empty values not allowed";
pub const HAS_SPACES: &str = "Must not contain spaces";
pub const UNKNOWN: &str = "unknown field";
pub const NOT_OBJECT: &str = "must be a JSON object";
pub const INVISIBLE: &str = "Must not contain control or invisible characters";

/// The rules for one string field.
pub struct StringField {
    pub name: &'static str,
    pub min_len: usize,
    pub max_len: usize,
    pub no_spaces: bool,
    /// Refuse every Unicode whitespace (not only U+0020) and every control or
    /// format character: such a name looks like another one, or forges log lines.
    pub visible_only: bool,
}

impl StringField {
    /// A username at login. No minimum: names made under older, laxer rules
    /// must still log in.
    pub const LOGIN_USERNAME: StringField = StringField {
        name: "username",
        min_len: 0,
        max_len: USERNAME_MAX_LEN,
        no_spaces: true,
        visible_only: false,
    };

    /// A password at login; no minimum, for the same reason.
    pub const LOGIN_PASSWORD: StringField = StringField {
        name: "password",
        min_len: 0,
        max_len: PASSWORD_MAX_LEN,
        no_spaces: true,
        visible_only: false,
    };

    /// The rules a new username must meet.
    pub fn new_username(rules: AccountRules) -> StringField {
        StringField {
            name: "username",
            min_len: rules.username_min_length,
            max_len: USERNAME_MAX_LEN,
            no_spaces: true,
            visible_only: true,
        }
    }

    /// The rules a new password must meet, reported under `field`.
    pub fn new_password(rules: AccountRules, field: &'static str) -> StringField {
        StringField {
            name: field,
            min_len: rules.password_min_length,
            max_len: PASSWORD_MAX_LEN,
            no_spaces: true,
            visible_only: false,
        }
    }

    /// The first rule `value` breaks, as Cerberus words it.
    pub fn check(&self, value: &str) -> Option<String> {
        let length = value.chars().count();
        if value.is_empty() {
            Some(EMPTY.to_owned())
        } else if length < self.min_len {
            Some(format!("min length is {}", self.min_len))
        } else if length > self.max_len {
            Some(format!("max length is {}", self.max_len))
        } else if (self.no_spaces && value.contains(' '))
            || (self.visible_only && value.chars().any(char::is_whitespace))
        {
            Some(HAS_SPACES.to_owned())
        } else if self.visible_only && value.chars().any(is_control_or_format) {
            Some(INVISIBLE.to_owned())
        } else {
            None
        }
    }
}

/// Parses `body` as a JSON object holding exactly `fields`, each a non-empty
/// string within its rules, and returns the strings in the order of `fields`.
/// Every problem is reported at once, field by field.
pub fn string_fields(body: &[u8], fields: &[StringField]) -> Result<Vec<String>, ServiceError> {
    let object: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => object,
        _ => return Err(ServiceError::bad_field("body", NOT_OBJECT)),
    };
    let mut errors = FieldErrors::new();
    for key in object.keys() {
        if !fields.iter().any(|field| field.name == key) {
            errors.insert(key.clone(), vec![UNKNOWN.to_owned()]);
        }
    }
    let mut values = Vec::with_capacity(fields.len());
    for field in fields {
        match object.get(field.name) {
            None | Some(Value::Null) => reject(&mut errors, field.name, REQUIRED.to_owned()),
            Some(Value::String(value)) => {
                if value.is_empty() {
                    reject(&mut errors, field.name, EMPTY.to_owned());
                } else if value.chars().count() > field.max_len {
                    reject(
                        &mut errors,
                        field.name,
                        format!("max length is {}", field.max_len),
                    );
                } else if field.no_spaces && value.contains(' ') {
                    reject(&mut errors, field.name, HAS_SPACES.to_owned());
                }
                values.push(value.clone());
            }
            Some(_) => reject(&mut errors, field.name, NOT_STRING.to_owned()),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(ServiceError::BadRequest(errors))
    }
}

/// Unicode's control (Cc) and format (Cf) characters: zero-width spaces and
/// joiners, direction overrides, the byte order mark, soft hyphen and the like.
fn is_control_or_format(c: char) -> bool {
    c.is_control()
        || matches!(u32::from(c),
            0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891
            | 0x08E2 | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
            | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
            | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001
            | 0xE0020..=0xE007F)
}

pub fn reject(errors: &mut FieldErrors, field: &str, reason: String) {
    errors.entry(field.to_owned()).or_default().push(reason);
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[StringField] = &[
        StringField {
            name: "username",
            min_len: 0,
            max_len: 10,
            no_spaces: true,
            visible_only: false,
        },
        StringField {
            name: "password",
            min_len: 0,
            max_len: 10,
            no_spaces: true,
            visible_only: false,
        },
    ];

    fn errors(body: &str) -> FieldErrors {
        match string_fields(body.as_bytes(), FIELDS) {
            Err(ServiceError::BadRequest(errors)) => errors,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    fn one(field: &str, reason: &str) -> FieldErrors {
        FieldErrors::from([(field.to_owned(), vec![reason.to_owned()])])
    }

    #[test]
    fn a_valid_body_gives_its_strings_in_order() {
        let values = string_fields(br#"{"password":"p","username":"u"}"#, FIELDS).unwrap();
        assert_eq!(values, ["u", "p"]);
    }

    #[test]
    fn each_rule_has_its_message() {
        assert_eq!(errors("[]"), one("body", NOT_OBJECT));
        assert_eq!(errors("not json"), one("body", NOT_OBJECT));
        assert_eq!(errors(""), one("body", NOT_OBJECT));
        assert_eq!(errors(r#"{"username":"u"}"#), one("password", REQUIRED));
        assert_eq!(
            errors(r#"{"username":"u","password":null}"#),
            one("password", REQUIRED)
        );
        assert_eq!(
            errors(r#"{"username":1,"password":"p"}"#),
            one("username", NOT_STRING)
        );
        assert_eq!(
            errors(r#"{"username":"a b","password":"p"}"#),
            one("username", HAS_SPACES)
        );
        assert_eq!(
            errors(r#"{"username":"","password":"p"}"#),
            one("username", EMPTY)
        );
        assert_eq!(
            errors(r#"{"username":"u","password":"p","role":"admin"}"#),
            one("role", UNKNOWN)
        );
        assert_eq!(
            errors(r#"{"username":"u","password":"01234567890"}"#),
            one("password", "max length is 10")
        );
    }

    #[test]
    fn a_minimum_length_is_checked_in_characters() {
        let field = StringField {
            name: "password",
            min_len: 3,
            max_len: 5,
            no_spaces: true,
            visible_only: false,
        };
        assert_eq!(field.check("ab"), Some("min length is 3".to_owned()));
        assert_eq!(field.check("ñññ"), None);
        assert_eq!(field.check("abcdef"), Some("max length is 5".to_owned()));
    }

    #[test]
    fn new_usernames_refuse_every_whitespace_control_and_format_character() {
        let rules = AccountRules {
            username_min_length: 1,
            password_min_length: 1,
            password_hash: crate::auth::password::HashScheme::Argon2id,
        };
        let field = StringField::new_username(rules);
        for name in ["a\tb", "a\nb", "a\u{a0}b", "a\u{2028}b", "a\u{3000}b"] {
            assert_eq!(field.check(name), Some(HAS_SPACES.to_owned()), "{name:?}");
        }
        for name in [
            "a\u{200b}b",
            "a\u{202e}b",
            "a\u{feff}b",
            "a\u{7}b",
            "a\u{ad}b",
        ] {
            assert_eq!(field.check(name), Some(INVISIBLE.to_owned()), "{name:?}");
        }
        assert_eq!(field.check("ñandú-2"), None);
    }

    #[test]
    fn all_problems_are_reported_together() {
        let found = errors(r#"{"x":1}"#);
        assert_eq!(found.len(), 3, "{found:?}");
    }
}
