//! `Option<Option<T>>` for partial updates: absent → `None`, `null` → `Some(None)`.

use serde::{Deserialize, Deserializer};

pub fn deserialize<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}
