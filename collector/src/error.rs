//! The one error type of the HTTP API: every way a request can fail, each answered with its
//! status and `{"error": "..."}` (plus `Retry-After` when a retry later may succeed: rate
//! limited, busy, storage unavailable).
//!
//! Handlers return `Result<_, AppError>` and use `?`: the errors of intake, campaigns,
//! storage and the rate limiter convert with `From`, so a handler reads as its happy path.

use crate::campaigns::CampaignLookupError;
use crate::intake::Rejection;
use crate::origin::Forbidden;
use crate::rate_limit::Refused;
use crate::storage::StorageError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why a request failed.
#[derive(Debug)]
pub enum AppError {
    /// A report from a page that may not submit (see [`crate::origin`]): 403.
    ForeignOrigin(Forbidden),
    /// The sender's network has used its allowance of reports: 429 (503 when the limiter's
    /// table of clients is full).
    RateLimited(Refused),
    /// The client has used its allowance of aggregate queries: 429 (503 when the table is
    /// full).
    ReadsLimited(Refused),
    /// Every aggregate query slot is taken: 503.
    Busy,
    /// An aggregate that would read more than `max` rows (cell and verdict): 400.
    TooManyCells { max: usize },
    /// Disruptions over a range whose hourly counts exceed `max` rows: 400.
    TooManyHours { max: usize },
    /// An OONI export whose range holds more than `max` stored reports to count attempts
    /// from: 400.
    TooManyReports { max: usize },
    /// A request body that stalled past `--body-timeout-ms`: 408.
    BodyTimeout,
    /// A report body that is neither JSON nor plain text: 415.
    UnsupportedContentType,
    /// A report body over `--max-body` bytes: 413.
    TooLarge { limit: usize },
    /// A body that broke off or could not be read: 400.
    UnreadableBody,
    /// Not an acceptable report: 400 (malformed JSON), 422 (naming the field), or 410 for a
    /// campaign that has ended.
    Rejected(Rejection),
    /// A campaign that cannot be served: 404, 410 once it has ended, or 500 for a file that
    /// is not a valid campaign.
    Campaign(CampaignLookupError),
    /// The campaigns folder cannot be read: 500.
    CampaignFolder(String),
    /// A query parameter out of range, or a query too large to answer: 400.
    BadQuery(String),
    /// The report could not be stored: 503, so the sender retries.
    NotStored(StorageError),
    /// Storage failed to answer a read: 503 when it is down, 500 when it holds what this
    /// collector cannot read.
    Storage(StorageError),
    /// A checked report that could not be re-serialized: 500 (a bug, not the sender's fault).
    Encode(serde_json::Error),
}

impl AppError {
    /// The status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::ForeignOrigin(_) => StatusCode::FORBIDDEN,
            AppError::RateLimited(Refused::TooManyClients)
            | AppError::ReadsLimited(Refused::TooManyClients)
            | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RateLimited(_) | AppError::ReadsLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooManyCells { .. }
            | AppError::TooManyHours { .. }
            | AppError::TooManyReports { .. } => StatusCode::BAD_REQUEST,
            AppError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::UnsupportedContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnreadableBody | AppError::BadQuery(_) => StatusCode::BAD_REQUEST,
            AppError::Rejected(Rejection::Malformed(_)) => StatusCode::BAD_REQUEST,
            AppError::Rejected(Rejection::Schema { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Rejected(Rejection::Ended { .. })
            | AppError::Campaign(CampaignLookupError::Ended { .. }) => StatusCode::GONE,
            AppError::Campaign(CampaignLookupError::Invalid { .. }) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Campaign(_) => StatusCode::NOT_FOUND,
            AppError::NotStored(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Storage(StorageError::Unreadable(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Storage(StorageError::Unavailable(_) | StorageError::Overloaded(_)) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Encode(_) | AppError::CampaignFolder(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a web developer reads in `{"error": "..."}`. It names the problem with the
    /// request; of a server-side failure it says only what `/healthz` would.
    pub fn message(&self) -> String {
        match self {
            AppError::ForeignOrigin(forbidden) => {
                let what = match forbidden {
                    Forbidden::Missing => "the request has no Origin header".into(),
                    Forbidden::Opaque => {
                        "Origin null (a sandboxed frame or local file) is not one".into()
                    }
                    Forbidden::Other(origin) => format!("{origin} is not one"),
                };
                format!("reports are accepted only from this collector's pages and its embedding origins; {what}")
            }
            AppError::RateLimited(Refused::OverAllowance { retry_after }) => {
                format!("too many reports from this network; try again in {retry_after} s")
            }
            AppError::ReadsLimited(Refused::OverAllowance { retry_after }) => {
                format!("too many aggregate queries from this network; try again in {retry_after} s")
            }
            AppError::RateLimited(Refused::TooManyClients)
            | AppError::ReadsLimited(Refused::TooManyClients) => {
                "too many clients at once; try again later".into()
            }
            AppError::Busy => "too many aggregate queries at once; try again in a moment".into(),
            AppError::TooManyCells { max } => format!(
                "too many cells (over {max} rows): narrow the query (cc, asn, platform, a shorter range or bucket=day)"
            ),
            AppError::TooManyHours { max } => format!(
                "too many cells to examine (over {max} rows of hourly counts, with the 7 days of baseline before from): choose a shorter range (from, to)"
            ),
            AppError::TooManyReports { max } => format!(
                "too many stored reports to count attempts from (over {max} in the range): choose a shorter range (from, to)"
            ),
            AppError::BodyTimeout => "the request body stalled; send it at once".into(),
            AppError::UnsupportedContentType => {
                "Content-Type must be application/json or text/plain".into()
            }
            AppError::TooLarge { limit } => format!("report larger than {limit} bytes"),
            AppError::UnreadableBody => "the request body could not be read".into(),
            AppError::Rejected(rejection) => rejection.message(),
            AppError::Campaign(CampaignLookupError::BadId) => {
                "no such campaign (ids are letters, digits, - and _)".into()
            }
            AppError::Campaign(CampaignLookupError::NotFound { id }) => {
                format!("no campaign {id:?}")
            }
            AppError::Campaign(CampaignLookupError::Invalid { id, .. }) => {
                format!("campaign {id:?} is misconfigured on this server")
            }
            AppError::Campaign(CampaignLookupError::Ended { id, at }) => {
                crate::campaigns::ended_message(id, at)
            }
            AppError::BadQuery(message) => message.clone(),
            AppError::NotStored(StorageError::Overloaded(_)) => {
                "the collector is busy; the report was not stored, please retry in a moment".into()
            }
            AppError::NotStored(_) => {
                "storage is unavailable; the report was not stored, please retry".into()
            }
            AppError::Storage(StorageError::Unavailable(_) | StorageError::Overloaded(_)) => {
                "storage is unavailable".into()
            }
            AppError::Storage(StorageError::Unreadable(what)) => {
                format!("storage holds data this collector cannot read: {what}")
            }
            AppError::Encode(e) => format!("cannot encode: {e}"),
            AppError::CampaignFolder(_) => "the campaigns are misconfigured on this server".into(),
        }
    }

    /// Seconds after which a retry may succeed, for `Retry-After`; `None` when it will not.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::RateLimited(refused) | AppError::ReadsLimited(refused) => {
                Some(refused.retry_after())
            }
            AppError::Busy | AppError::NotStored(StorageError::Overloaded(_)) => Some(1),
            AppError::NotStored(_) | AppError::Storage(StorageError::Unavailable(_)) => Some(5),
            _ => None,
        }
    }

    /// Server-side causes go to the log (never the request, which is not logged); the
    /// sender's own mistakes do not.
    fn log(&self) {
        match self {
            AppError::Campaign(CampaignLookupError::Invalid { problem, .. }) => {
                eprintln!("netreach-collector: campaign file is invalid: {problem}");
            }
            AppError::Storage(e) => eprintln!("netreach-collector: storage read failed: {e}"),
            AppError::CampaignFolder(e) => {
                eprintln!("netreach-collector: cannot read the campaigns folder: {e}");
            }
            // Storage logs its own write failures, with the batch they belong to.
            _ => {}
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (
            self.status(),
            Json(serde_json::json!({ "error": self.message() })),
        )
            .into_response();
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<Forbidden> for AppError {
    fn from(forbidden: Forbidden) -> Self {
        AppError::ForeignOrigin(forbidden)
    }
}

impl From<Refused> for AppError {
    fn from(refused: Refused) -> Self {
        AppError::RateLimited(refused)
    }
}

impl From<Rejection> for AppError {
    fn from(rejection: Rejection) -> Self {
        AppError::Rejected(rejection)
    }
}

impl From<CampaignLookupError> for AppError {
    fn from(e: CampaignLookupError) -> Self {
        AppError::Campaign(e)
    }
}

/// A failed read; a failed write is [`AppError::NotStored`], named where it happens.
impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        AppError::Storage(e)
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Encode(e)
    }
}
