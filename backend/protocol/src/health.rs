//! `GET /api/health`: whether a backend is up, and which build it is.

use serde::{Deserialize, Serialize};

/// The body of `GET /api/health`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// Overall state of the backend.
    pub status: HealthStatus,
    /// The service that answered (`chatr-backend`).
    pub service: String,
    /// The answering build's version (its crate version).
    pub version: String,
}

/// Overall state of a backend.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HealthStatus {
    /// Serving requests.
    Ok,
    /// Up, but a dependency (store, hub) is failing.
    Degraded,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_round_trips_in_camel_case() {
        let health = Health {
            status: HealthStatus::Ok,
            service: "chatr-backend".into(),
            version: "1.2.3".into(),
        };
        let json = serde_json::to_value(&health).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"status": "ok", "service": "chatr-backend", "version": "1.2.3"})
        );
        let back: Health = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, health);
    }

    #[test]
    fn unknown_status_is_rejected() {
        let err = serde_json::from_str::<Health>(
            r#"{"status":"sleeping","service":"chatr-backend","version":"1"}"#,
        );
        assert!(err.is_err());
    }
}
