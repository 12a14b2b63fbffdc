//! `GET /v1/campaigns/{id}`: a campaign file from the campaigns folder, validated.

use super::State;
use crate::campaigns::CampaignLookupError;
use crate::error::ApiError;
use axum::extract::{Path, State as Extract};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

pub async fn get_campaign(
    Extract(state): Extract<State>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id.strip_suffix(".json").unwrap_or(&id);
    match state.campaigns.get(id) {
        Ok(campaign) => Ok((
            [(header::CACHE_CONTROL, "no-cache")],
            Json(campaign.as_ref().clone()),
        )),
        Err(CampaignLookupError::BadId) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no such campaign (ids are letters, digits, - and _)",
        )),
        Err(CampaignLookupError::NotFound) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no campaign {id:?}"),
        )),
        Err(CampaignLookupError::Invalid(problem)) => {
            eprintln!("netreach-collector: campaign file is invalid: {problem}");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("campaign {id:?} is misconfigured on this server"),
            ))
        }
    }
}
