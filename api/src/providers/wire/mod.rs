//! Wire formats. Each module owns its serde structs and the conversions to and from
//! `providers::types`.

pub mod aigne;
pub mod anthropic;
pub mod gemini;
pub mod openai;
