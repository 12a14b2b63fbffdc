//! `GET /v1/campaigns/{id}`: a campaign file from the campaigns folder, validated.

use super::State;
use crate::error::AppError;
use axum::extract::{Path, State as Extract};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

pub async fn get_campaign(
    Extract(state): Extract<State>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let id = id.strip_suffix(".json").unwrap_or(&id);
    let campaign = state.campaigns.get(id)?;
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(campaign.as_ref().clone()),
    ))
}
