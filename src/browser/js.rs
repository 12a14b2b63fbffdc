//! Raw bindings to the globals the engine uses, for a Window or a Worker alike.
use alloc::string::String;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{Document, Performance, RequestInit};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &Function, ms: i32) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);

    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch(url: &str, init: &RequestInit) -> Promise;

    #[wasm_bindgen(thread_local_v2, js_name = performance)]
    pub static PERFORMANCE: Performance;

    /// `globalThis`: a Window or a WorkerGlobalScope.
    pub type Global;

    #[wasm_bindgen(method, getter, js_name = crossOriginIsolated)]
    pub fn cross_origin_isolated(this: &Global) -> Option<bool>;

    /// Absent in Workers.
    #[wasm_bindgen(method, getter)]
    pub fn document(this: &Global) -> Option<Document>;

    #[wasm_bindgen(method, getter)]
    pub fn navigator(this: &Global) -> AnyNavigator;

    /// A Navigator or a WorkerNavigator: both have `userAgent`.
    pub type AnyNavigator;

    #[wasm_bindgen(method, getter, js_name = userAgent)]
    pub fn user_agent(this: &AnyNavigator) -> String;
}

pub fn global() -> Global {
    js_sys::global().unchecked_into()
}
