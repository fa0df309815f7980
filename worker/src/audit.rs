//! Writing the audit log (SPEC §10): one row per audited action, success and
//! failure, written before the response is sent. If the write fails the
//! request fails closed (503 `STORAGE_UNAVAILABLE`): an action that answered
//! success always has its row. Each row is also one JSON log line.
//!
//! Events are built only through `shared::audit::AuditEvent::builder`, which
//! redacts secret-looking metadata and bounds the user agent.

use crate::client::ClientInfo;
use crate::clock::Now;
use crate::error::ApiError;
use crate::random;
use crate::storage::records::AuditRecord;
use crate::storage::scope::TenantScope;
use crate::storage::AuditRepo;
use agentgate_shared::audit::{to_log_line, AuditAction, AuditEvent, Outcome};
use serde_json::Value;

/// The audit trail of one request: where rows go and what every row of this
/// request shares (tenant, client IP, user agent, time).
pub struct AuditTrail<'s, S: AuditRepo> {
    store: &'s S,
    tenant: TenantScope,
    ip: Option<String>,
    user_agent: Option<String>,
    now: Now,
}

impl<'s, S: AuditRepo> AuditTrail<'s, S> {
    pub fn new(store: &'s S, tenant: TenantScope, client: &ClientInfo, now: Now) -> Self {
        Self {
            store,
            tenant,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            now,
        }
    }

    /// Writes one row (and its log line). `actor` is the acting identity,
    /// when one is known.
    pub async fn record(
        &self,
        action: AuditAction,
        outcome: Outcome,
        actor: Option<&str>,
        metadata: &[(&str, Value)],
    ) -> Result<(), ApiError> {
        let mut builder = AuditEvent::builder(
            random::new_id(self.now)?,
            self.now.ms(),
            self.tenant.server_id(),
            action,
            outcome,
        );
        if let Some(ip) = &self.ip {
            builder = builder.ip(ip.clone());
        }
        if let Some(actor) = actor {
            builder = builder.actor(actor);
        }
        if let Some(ua) = &self.user_agent {
            builder = builder.user_agent(ua.clone());
        }
        for (key, value) in metadata {
            builder = builder.meta(*key, value.clone());
        }
        let event = builder.build();
        let record = AuditRecord {
            id: event.id().to_owned(),
            ts: event.ts() as i64,
            actor_identity_id: event.actor_identity_id().map(str::to_owned),
            ip: event.ip().map(str::to_owned),
            user_agent: event.user_agent().map(str::to_owned),
            action: event.action().to_owned(),
            outcome: event.outcome().as_str().to_owned(),
            metadata: event.metadata_json(),
        };
        self.store.insert_audit(&self.tenant, &record).await?;
        worker::console_log!("{}", to_log_line(&event));
        Ok(())
    }
}

impl<S: AuditRepo> AuditTrail<'_, S> {
    /// Records a refusal with its `reason`, then hands back `error` for the
    /// handler to return — or the audit write's own error, since a request
    /// whose row could not be written fails closed.
    pub async fn refused(
        &self,
        action: AuditAction,
        actor: Option<&str>,
        reason: &str,
        error: ApiError,
    ) -> ApiError {
        let metadata = [("reason", Value::from(reason))];
        match self
            .record(action, Outcome::Failure, actor, &metadata)
            .await
        {
            Ok(()) => error,
            Err(write_failed) => write_failed,
        }
    }
}
