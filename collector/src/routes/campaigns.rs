//! `GET /v1/campaigns`: the campaigns people can start (not ended), with what they see of
//! each; `GET /v1/campaigns/{id}`: one campaign file, validated (410 once it has ended, so the
//! page can say so).

use super::State;
use crate::campaigns::descriptor::{About, Descriptor};
use crate::error::AppError;
use crate::time;
use axum::extract::{Path, State as Extract};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

pub async fn get_campaign(
    Extract(state): Extract<State>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let id = id.strip_suffix(".json").unwrap_or(&id);
    let descriptor = state.campaigns.active(id, time::now())?;
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(descriptor.as_ref().clone()),
    ))
}

/// One entry of the list: the descriptor's own fields (the name defaults to the id), not the
/// endpoints, which come with the campaign.
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    #[serde(flatten)]
    about: About,
    platforms: usize,
}

/// `{"campaigns": [...]}`, by id.
pub async fn list_campaigns(Extract(state): Extract<State>) -> Result<impl IntoResponse, AppError> {
    let active = (state.campaigns.list_active(time::now()))
        .map_err(|e| AppError::CampaignFolder(e.to_string()))?;
    let campaigns: Vec<Listed<'_>> = active.iter().map(|d| listed(d)).collect();
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(serde_json::json!({ "campaigns": campaigns })),
    ))
}

fn listed(d: &Descriptor) -> Listed<'_> {
    let mut about = d.about.clone();
    about.name.get_or_insert_with(|| d.campaign.id.clone());
    Listed {
        id: &d.campaign.id,
        about,
        platforms: d.campaign.platforms.len(),
    }
}
