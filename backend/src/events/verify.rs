//! Is a webhook request really from our Web PubSub service? Pure checks, no I/O.
//!
//! Two mechanisms, both from the service's documentation:
//! - **Signatures.** Every event carries `ce-signature: sha256=<hex>,sha256=<hex>`: one HMAC-SHA256 of
//!   the connection id per access key of the service. We accept the request when any entry matches any
//!   key we were configured with, comparing in constant time.
//! - **Abuse protection.** Before sending events the service asks `OPTIONS` with
//!   `WebHook-Request-Origin: <its host>`; we answer `WebHook-Allowed-Origin` only for origins we were
//!   configured to trust, so nobody else can point a Web PubSub resource at us.
//!
//! Hand-written because no crate implements Web PubSub's signature scheme; the HMAC itself is `hmac`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The longest `ce-signature` header we look at (one entry is 71 bytes; a service has two keys).
const MAX_SIGNATURE_HEADER_LEN: usize = 1024;

/// The value of `ce-signature` that `key` produces for `connection_id` (one entry).
pub fn sign(key: &str, connection_id: &str) -> String {
    let mut mac = hmac_for(key);
    mac.update(connection_id.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` (the raw `ce-signature` value) holds a valid signature of `connection_id` by
/// any of `keys`. An empty key list accepts nothing.
pub fn signature_is_valid(header: &str, connection_id: &str, keys: &[String]) -> bool {
    if header.len() > MAX_SIGNATURE_HEADER_LEN {
        return false;
    }
    let candidates: Vec<Vec<u8>> = header
        .split(',')
        .filter_map(|entry| {
            let entry = entry.trim();
            let hex_part = entry
                .get(..7)
                .filter(|prefix| prefix.eq_ignore_ascii_case("sha256="))
                .map(|_| &entry[7..])?;
            hex::decode(hex_part.to_ascii_lowercase()).ok()
        })
        .collect();
    keys.iter().any(|key| {
        candidates.iter().any(|candidate| {
            let mut mac = hmac_for(key);
            mac.update(connection_id.as_bytes());
            // `verify_slice` compares in constant time.
            mac.verify_slice(candidate).is_ok()
        })
    })
}

/// The `WebHook-Allowed-Origin` to answer for an abuse-protection request from `request_origin`, or
/// `None` to refuse. `allowed` holds host names; `*` in it allows any origin.
pub fn allowed_origin(request_origin: &str, allowed: &[String]) -> Option<String> {
    let origin = request_origin.trim();
    if origin.is_empty() {
        return None;
    }
    // The service may list several origins separated by commas; we answer for the first we trust.
    origin
        .split(',')
        .map(str::trim)
        .find(|candidate| {
            allowed
                .iter()
                .any(|trusted| trusted == "*" || trusted.eq_ignore_ascii_case(candidate))
        })
        .map(str::to_owned)
}

fn hmac_for(key: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH";

    #[test]
    fn known_answer() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC-style test vector.
        assert_eq!(
            sign("key", "The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn a_signature_by_a_configured_key_is_valid() {
        let header = sign(KEY, "conn-1");
        assert!(signature_is_valid(&header, "conn-1", &[KEY.to_owned()]));
    }

    #[test]
    fn any_entry_may_match_any_key_case_insensitively() {
        let header = format!(
            "sha256=00ff, {}",
            sign("secondary", "conn-1").to_ascii_uppercase()
        );
        let keys = ["primary".to_owned(), "secondary".to_owned()];
        assert!(signature_is_valid(&header, "conn-1", &keys));
    }

    #[test]
    fn signatures_of_another_connection_or_key_are_rejected() {
        let keys = [KEY.to_owned()];
        assert!(!signature_is_valid(&sign(KEY, "conn-2"), "conn-1", &keys));
        assert!(!signature_is_valid(
            &sign("other", "conn-1"),
            "conn-1",
            &keys
        ));
    }

    #[test]
    fn garbage_and_missing_keys_are_rejected() {
        let keys = [KEY.to_owned()];
        for header in ["", "sha256=", "sha256=zz", "md5=abcd", ",,,", "sha256=é"] {
            assert!(!signature_is_valid(header, "conn-1", &keys), "{header:?}");
        }
        assert!(!signature_is_valid(&sign(KEY, "conn-1"), "conn-1", &[]));
        assert!(!signature_is_valid(&"a".repeat(5000), "conn-1", &keys));
    }

    #[test]
    fn only_trusted_origins_are_allowed() {
        let allowed = ["chatr.webpubsub.azure.com".to_owned()];
        assert_eq!(
            allowed_origin("Chatr.WebPubSub.Azure.com", &allowed),
            Some("Chatr.WebPubSub.Azure.com".to_owned())
        );
        assert_eq!(allowed_origin("evil.webpubsub.azure.com", &allowed), None);
        assert_eq!(allowed_origin("", &allowed), None);
        assert_eq!(
            allowed_origin("evil.example, chatr.webpubsub.azure.com", &allowed),
            Some("chatr.webpubsub.azure.com".to_owned())
        );
    }

    #[test]
    fn star_allows_any_origin() {
        assert_eq!(
            allowed_origin("127.0.0.1:8080", &["*".to_owned()]),
            Some("127.0.0.1:8080".to_owned())
        );
    }
}
