//! The paginated list shape: `{count, list, paging:{page,pageSize}}`.

use crate::db::Page;
use serde::Serialize;

#[derive(Serialize)]
pub struct ListBody<T> {
    pub count: i64,
    pub list: Vec<T>,
    pub paging: Paging,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    pub page: i64,
    pub page_size: i64,
}

impl<T> ListBody<T> {
    pub fn new(count: i64, list: Vec<T>, page: Page) -> Self {
        ListBody {
            count,
            list,
            paging: Paging {
                page: page.page,
                page_size: page.page_size,
            },
        }
    }
}
