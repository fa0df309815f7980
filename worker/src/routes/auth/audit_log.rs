//! `GET /api/auth/audit?before=&limit=` (SPEC §10): the tenant's audit log,
//! newest first, for the owner. `before` is a row's `ts` (unix ms).

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::http::response;
use crate::routes::page;
use crate::storage::AuditRepo;
use serde_json::json;
use worker::{Request, Response};

pub async fn list(req: Request, cx: &RequestContext<'_>) -> Result<Response, ApiError> {
    let caller = cx.owner()?;
    let page = page(&req, 50, 200)?;
    let rows = cx
        .store()?
        .audit_page(caller.scope.tenant(), page.before, page.limit)
        .await?;
    let next = page.next_before(rows.len(), rows.last().map(|r| r.ts));
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "ts": r.ts,
                "actorIdentityId": r.actor_identity_id,
                "ip": r.ip,
                "userAgent": r.user_agent,
                "action": r.action,
                "outcome": r.outcome,
                "metadata": serde_json::from_str::<serde_json::Value>(&r.metadata)
                    .unwrap_or_else(|_| json!({})),
            })
        })
        .collect();
    Ok(response::json(
        200,
        &json!({ "events": items, "nextBefore": next }),
    ))
}
