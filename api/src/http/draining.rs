//! Counts every request until its answer's last byte (see `lifecycle`), and once a stop began
//! refuses new ones with 503 and closes connections instead of keeping them alive, so a proxy in
//! front (Blocklet Server's router, a load balancer) sends the next request elsewhere.

use crate::error::ApiError;
use crate::lifecycle::{InFlight, Lifecycle};
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use bytes::Bytes;
use std::pin::Pin;
use std::task::{Context, Poll};

pub async fn middleware(
    lifecycle: Lifecycle,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Counted>, actix_web::Error> {
    let Some(in_flight) = lifecycle.enter() else {
        let mut res: HttpResponse = ApiError::Unavailable(
            "the Hub is stopping and takes no new requests; send it again".into(),
        )
        .error_response();
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        res.head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
        return Ok(req.into_response(res).map_body(|_, body| Counted {
            body,
            _in_flight: None,
        }));
    };
    let mut res = next.call(req).await?;
    if lifecycle.is_draining() {
        res.response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(res.map_body(|_, body| Counted {
        body: body.boxed(),
        _in_flight: Some(in_flight),
    }))
}

/// An answer's body that keeps its request counted until it is dropped (written out, or the
/// client went away).
pub struct Counted {
    body: BoxBody,
    _in_flight: Option<InFlight>,
}

impl MessageBody for Counted {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let Counted { body, _in_flight } = self;
        body.try_into_bytes()
            .map_err(|body| Counted { body, _in_flight })
    }
}
