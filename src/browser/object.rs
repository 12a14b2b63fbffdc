//! Plain JavaScript objects in and out of the engine, without serde-wasm-bindgen: reading a
//! campaign names the exact field at fault, and writing goes through the types' own serde
//! attributes (so the report object has exactly the JSON shape the collector parses) with an
//! error type that never formats, which keeps float formatting out of the Wasm.
//!
//! Measured (BENCHMARKS.md, "Hand-written or crate"): serde-wasm-bindgen's serializer in place
//! of [`to_js`] costs +4,642 B gzip, its deserializer in place of `api.rs`'s campaign reader
//! +17,249 B, a small serde `Deserializer` over `JsValue` +1,660 B; all three are over the
//! budget. The reader is kept in step with the serde shape by `tests/api.rs`.
use alloc::{string::String, vec::Vec};

use core::fmt;
use js_sys::{Array, Object, Reflect};
use serde::ser::{self, Impossible, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// `value[key]` (undefined when absent or unreadable).
pub fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The elements of `value` if it is an array.
pub fn array(value: &JsValue) -> Option<Vec<JsValue>> {
    Array::is_array(value).then(|| value.unchecked_ref::<Array>().to_vec())
}

/// `message` of a thrown JavaScript value, or its text if it is a string.
pub fn error_message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_default()
}

/// A plain object (or array, string, number) with the value's serde JSON shape.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value.serialize(Writer).unwrap_or(JsValue::UNDEFINED)
}

/// The shapes reports and progress events do not use (maps, tuples, bytes).
#[derive(Debug)]
pub struct Unsupported;

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unsupported shape")
    }
}

impl core::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

struct Writer;

struct ArrayWriter(Array);

struct ObjectWriter(Object);

type Result<T> = core::result::Result<T, Unsupported>;

impl ser::Serializer for Writer {
    type Ok = JsValue;
    type Error = Unsupported;
    type SerializeSeq = ArrayWriter;
    type SerializeTuple = Impossible<JsValue, Unsupported>;
    type SerializeTupleStruct = Impossible<JsValue, Unsupported>;
    type SerializeTupleVariant = Impossible<JsValue, Unsupported>;
    type SerializeMap = Impossible<JsValue, Unsupported>;
    type SerializeStruct = ObjectWriter;
    type SerializeStructVariant = Impossible<JsValue, Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<JsValue> {
        Ok(JsValue::from_bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<JsValue> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<JsValue> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<JsValue> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<JsValue> {
        self.serialize_f64(v as f64)
    }
    fn serialize_u8(self, v: u8) -> Result<JsValue> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<JsValue> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<JsValue> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<JsValue> {
        self.serialize_f64(v as f64)
    }
    fn serialize_f32(self, v: f32) -> Result<JsValue> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<JsValue> {
        Ok(JsValue::from_f64(v))
    }
    fn serialize_char(self, v: char) -> Result<JsValue> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<JsValue> {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<JsValue> {
        Err(Unsupported)
    }
    fn serialize_none(self) -> Result<JsValue> {
        Ok(JsValue::NULL)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<JsValue> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<JsValue> {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<JsValue> {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        name: &'static str,
    ) -> Result<JsValue> {
        self.serialize_str(name)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<JsValue> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<JsValue> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<ArrayWriter> {
        Ok(ArrayWriter(Array::new()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(Unsupported)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<ObjectWriter> {
        Ok(ObjectWriter(Object::new()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(Unsupported)
    }
}

impl ser::SerializeSeq for ArrayWriter {
    type Ok = JsValue;
    type Error = Unsupported;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.0.push(&value.serialize(Writer)?);
        Ok(())
    }
    fn end(self) -> Result<JsValue> {
        Ok(self.0.into())
    }
}

impl ser::SerializeStruct for ObjectWriter {
    type Ok = JsValue;
    type Error = Unsupported;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let value = value.serialize(Writer)?;
        Reflect::set(&self.0, &JsValue::from_str(key), &value).map_err(|_| Unsupported)?;
        Ok(())
    }
    fn end(self) -> Result<JsValue> {
        Ok(self.0.into())
    }
}
