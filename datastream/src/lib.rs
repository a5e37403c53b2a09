//! Eddy DataStream API.
