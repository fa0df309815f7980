//! What a handler gets besides the request: the request's store, the
//! configuration, the clock reading, the client's facts, the route and its
//! path parameters, and the caller. Handlers ask for what they need the way
//! axum extractors do (`cx.caller()?`, `cx.owner()?`, `cx.store()?`,
//! `cx.param("agentId")?`, `cx.audit()?`); each accessor fails with the
//! error the route would give.

use crate::audit::AuditTrail;
use crate::auth::{self, Caller};
use crate::client::ClientInfo;
use crate::clock::Now;
use crate::error::ApiError;
use crate::storage::{RequestStore, Store};
use agentgate_shared::audit::{AuditAction, Outcome};
use agentgate_shared::config::Config;
use agentgate_shared::routes::{PathParams, RouteSpec};
use agentgate_shared::rules;
use agentgate_shared::ErrorCode;
use serde_json::Value;
use worker::Env;

pub struct RequestContext<'a> {
    pub env: &'a Env,
    /// The request's store (one PostgreSQL connection per request).
    stores: &'a RequestStore<'a>,
    pub config: &'a Config,
    pub request_id: &'a str,
    pub route: &'static RouteSpec,
    pub params: PathParams,
    pub caller: Option<Caller>,
    /// The clock, read once when the request arrived.
    pub now: Now,
    pub client: ClientInfo,
}

impl<'a> RequestContext<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        env: &'a Env,
        stores: &'a RequestStore<'a>,
        config: &'a Config,
        request_id: &'a str,
        route: &'static RouteSpec,
        params: PathParams,
        caller: Option<Caller>,
        client: ClientInfo,
        now: Now,
    ) -> Self {
        Self {
            env,
            stores,
            config,
            request_id,
            route,
            params,
            caller,
            now,
            client,
        }
    }

    /// The request's store.
    pub fn store(&self) -> Result<&Store, ApiError> {
        Ok(self.stores.get()?)
    }

    /// The authenticated caller (the pipeline guarantees one on non-public
    /// routes).
    pub fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller
            .as_ref()
            .ok_or_else(|| ErrorCode::AuthRequired.into())
    }

    /// The caller, on owner-only routes (machine tokens, the audit log):
    /// `admin:*` is not enough.
    pub fn owner(&self) -> Result<&Caller, ApiError> {
        let caller = self.caller()?;
        if !caller.is_owner() {
            return Err(ApiError::new(ErrorCode::InsufficientPermissions)
                .with_message("Only the owner may do this"));
        }
        Ok(caller)
    }

    /// A path parameter the route table names; a route without it is a
    /// programming error, answered as not found.
    pub fn param(&self, name: &str) -> Result<&str, ApiError> {
        self.params
            .get(name)
            .ok_or_else(|| ErrorCode::NotFound.into())
    }

    /// An id in the path (`:agentId`, `:channelId`, `:entityId`), in its
    /// canonical form. Something that is not an id names nothing: 404.
    pub fn id_param(&self, name: &str) -> Result<String, ApiError> {
        rules::parse_id("id", self.param(name)?).map_err(|_| ErrorCode::NotFound.into())
    }

    /// The audit trail of this request: rows go to the request's store with
    /// the tenant, client IP and user agent filled in.
    pub fn audit(&self) -> Result<AuditTrail<'_, Store>, ApiError> {
        Ok(AuditTrail::new(
            self.store()?,
            auth::tenant(self.config),
            &self.client,
            self.now,
        ))
    }

    /// Writes this route's audit row, with the caller as the actor.
    pub async fn audit_route(
        &self,
        outcome: Outcome,
        metadata: &[(&str, Value)],
    ) -> Result<(), ApiError> {
        let actor = self.caller.as_ref().and_then(|c| c.identity_id.as_deref());
        self.audit()?
            .record(self.audit_action()?, outcome, actor, metadata)
            .await
    }

    /// Audits a change that may have touched nothing (not the caller's):
    /// a success row, or a failure row and then 404.
    pub async fn audit_change(
        &self,
        changed: bool,
        metadata: &[(&str, Value)],
    ) -> Result<(), ApiError> {
        self.audit_route(Outcome::from_success(changed), metadata)
            .await?;
        if changed {
            Ok(())
        } else {
            Err(ErrorCode::NotFound.into())
        }
    }

    /// The audit action the route table names for this route.
    pub fn audit_action(&self) -> Result<AuditAction, ApiError> {
        self.route
            .audit
            .and_then(AuditAction::from_base)
            .ok_or_else(|| ApiError::internal("route has no audit action"))
    }
}
