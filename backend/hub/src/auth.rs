//! Access tokens, checked the way Azure Web PubSub checks them: HS256 JWTs signed with the UTF-8
//! bytes of an access key. Client tokens (`aud` = `http(s)://host/client/hubs/{hub}`) give the
//! connection its user id, roles and initial groups; REST tokens (`aud` = the request URL, with or
//! without its query) authorise data-plane calls. Pure: no I/O, the time is passed in.
//! Hand-written on `jsonwebtoken` because the audience rules (case-insensitive, query optional)
//! and the string-or-array claims are Web PubSub's own.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Clock skew tolerated on `exp` and `nbf`, as Microsoft's emulator does.
pub const LEEWAY_SECS: u64 = 300;

/// Why a token was refused. Callers answer 401 and say no more.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token was presented.
    #[error("missing access token")]
    Missing,
    /// Bad signature, expired, malformed, or for another audience.
    #[error("invalid access token: {0}")]
    Invalid(String),
}

/// Who a client token says the connection is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientIdentity {
    /// `sub`: the user id, if any.
    pub user_id: Option<String>,
    /// `role`: roles granted by the token.
    pub roles: Vec<String>,
    /// `webpubsub.group`: groups to join on connect.
    pub groups: Vec<String>,
    /// Every claim, as name → values (forwarded in the `connect` event).
    pub claims: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct RawClaims {
    aud: Option<StringOrVec>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum StringOrVec {
    One(String),
    Many(Vec<String>),
}

impl StringOrVec {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

/// Decodes a token with any of `keys`, checking signature, `exp` and `nbf`, not the audience.
fn decode(token: &str, keys: &[String]) -> Result<RawClaims, AuthError> {
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    validation.set_required_spec_claims(&["exp"]);
    let mut last = AuthError::Invalid("no access key is configured".into());
    for key in keys {
        match jsonwebtoken::decode::<RawClaims>(
            token,
            &DecodingKey::from_secret(key.as_bytes()),
            &validation,
        ) {
            Ok(data) => return Ok(data.claims),
            Err(err) => last = AuthError::Invalid(err.to_string()),
        }
    }
    Err(last)
}

/// Audiences compare case-insensitively and percent-decoded, as Microsoft's emulator does: SDKs
/// and HTTP clients differ in which characters of a URL they escape.
fn normalise(url: &str) -> String {
    percent_encoding::percent_decode_str(url.trim_end_matches('/'))
        .decode_utf8_lossy()
        .to_ascii_lowercase()
}

fn audience_matches(aud: Option<StringOrVec>, accepted: &[&str]) -> bool {
    let accepted: Vec<String> = accepted.iter().map(|a| normalise(a)).collect();
    aud.map(StringOrVec::into_vec)
        .unwrap_or_default()
        .iter()
        .any(|a| accepted.contains(&normalise(a)))
}

/// Checks a client token for `expected_aud` (`{scheme}://{host}/client/hubs/{hub}`).
pub fn verify_client_token(
    token: &str,
    keys: &[String],
    expected_aud: &str,
) -> Result<ClientIdentity, AuthError> {
    let claims = decode(token, keys)?;
    if !audience_matches(claims.aud.clone(), &[expected_aud]) {
        return Err(AuthError::Invalid("wrong audience".into()));
    }
    let strings = |name: &str| -> Vec<String> {
        match claims.rest.get(name) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let user_id = strings("sub").into_iter().next().filter(|s| !s.is_empty());
    let mut all = claims.rest.clone();
    if let Some(aud) = claims.aud {
        all.insert(
            "aud".into(),
            Value::Array(aud.into_vec().into_iter().map(Value::String).collect()),
        );
    }
    Ok(ClientIdentity {
        user_id,
        roles: strings("role"),
        groups: strings("webpubsub.group"),
        claims: all,
    })
}

/// Checks a REST token: its audience must be the request URL, with or without the query.
pub fn verify_rest_token(token: &str, keys: &[String], request_url: &str) -> Result<(), AuthError> {
    let claims = decode(token, keys)?;
    let without_query = request_url.split('?').next().unwrap_or(request_url);
    if audience_matches(claims.aud, &[request_url, without_query]) {
        Ok(())
    } else {
        Err(AuthError::Invalid("wrong audience".into()))
    }
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn sign(claims: Value, key: &str) -> String {
        jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    }

    fn keys() -> Vec<String> {
        vec![KEY.to_owned()]
    }

    const AUD: &str = "http://127.0.0.1:8080/client/hubs/chat";

    #[test]
    fn client_token_gives_user_roles_and_groups() {
        let token = sign(
            json!({"aud": AUD, "sub": "alice", "exp": now() + 60,
                   "role": ["webpubsub.joinLeaveGroup.g1", "webpubsub.sendToGroup"],
                   "webpubsub.group": "g1", "custom": "x"}),
            KEY,
        );
        let id = verify_client_token(&token, &keys(), AUD).unwrap();
        assert_eq!(id.user_id.as_deref(), Some("alice"));
        assert_eq!(id.roles.len(), 2);
        assert_eq!(id.groups, ["g1"]);
        assert_eq!(id.claims["custom"], "x");
    }

    #[test]
    fn audience_is_case_insensitive_and_must_match() {
        let token = sign(json!({"aud": AUD.to_uppercase(), "exp": now() + 60}), KEY);
        assert!(verify_client_token(&token, &keys(), AUD).is_ok());
        let other = sign(
            json!({"aud": "http://127.0.0.1:8080/client/hubs/other", "exp": now() + 60}),
            KEY,
        );
        assert!(verify_client_token(&other, &keys(), AUD).is_err());
    }

    #[test]
    fn expired_forged_and_missing_tokens_are_refused() {
        let expired = sign(json!({"aud": AUD, "exp": now() - LEEWAY_SECS - 10}), KEY);
        assert!(verify_client_token(&expired, &keys(), AUD).is_err());
        let slightly_late = sign(json!({"aud": AUD, "exp": now() - 10}), KEY);
        assert!(verify_client_token(&slightly_late, &keys(), AUD).is_ok());
        let forged = sign(json!({"aud": AUD, "exp": now() + 60}), "another key");
        assert!(verify_client_token(&forged, &keys(), AUD).is_err());
        let no_exp = sign(json!({"aud": AUD}), KEY);
        assert!(verify_client_token(&no_exp, &keys(), AUD).is_err());
        assert_eq!(
            verify_client_token("", &keys(), AUD),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn any_configured_key_may_sign() {
        let token = sign(json!({"aud": AUD, "exp": now() + 60}), "secondary");
        let keys = vec![KEY.to_owned(), "secondary".to_owned()];
        assert!(verify_client_token(&token, &keys, AUD).is_ok());
    }

    #[test]
    fn rest_audience_may_include_the_query_or_not() {
        let url = "http://127.0.0.1:8080/api/hubs/chat/:send?api-version=2024-01-01";
        for aud in [url, "http://127.0.0.1:8080/api/hubs/chat/:send"] {
            let token = sign(json!({"aud": aud, "exp": now() + 60}), KEY);
            assert!(verify_rest_token(&token, &keys(), url).is_ok(), "{aud}");
        }
        let token = sign(
            json!({"aud": "http://127.0.0.1:8080/api/hubs/chat/users/x/:send", "exp": now() + 60}),
            KEY,
        );
        assert!(verify_rest_token(&token, &keys(), url).is_err());
    }

    #[test]
    fn rest_audience_tolerates_different_escaping() {
        let sent =
            "http://h/api/hubs/chat/:send?api-version=2024-01-01&filter=%27g%27%20in%20groups";
        let signed = "http://h/api/hubs/chat/:send?api-version=2024-01-01&filter='g' in groups";
        let token = sign(json!({"aud": signed, "exp": now() + 60}), KEY);
        assert!(verify_rest_token(&token, &keys(), sent).is_ok());
    }

    #[test]
    fn bearer_headers_are_parsed() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(None), None);
    }
}
