//! Field encodings shared by every message: little-endian integers, strict
//! booleans, length-prefixed strings and arrays. Parsing is `nom`; emitting
//! writes into a caller's buffer through [`Writer`].

use heapless::{String, Vec};
use nom::error::{ErrorKind, ParseError};
use nom::number::complete as num;
use nom::{IResult, Parser};

/// What went wrong inside one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldProblem {
    /// The payload ended inside the field.
    Truncated,
    /// The bytes are there but do not hold a legal value.
    InvalidValue {
        /// The offending raw value (a length for strings and arrays).
        value: u32,
    },
    /// Text that is not UTF-8.
    NotUtf8,
}

/// nom error type for field parsers: keeps the problem, not nom's internals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireError(pub FieldProblem);

impl<I> ParseError<I> for WireError {
    fn from_error_kind(_: I, _: ErrorKind) -> Self {
        WireError(FieldProblem::Truncated)
    }
    fn append(_: I, _: ErrorKind, other: Self) -> Self {
        other
    }
}

pub(crate) type WireResult<'a, T> = IResult<&'a [u8], T, WireError>;

pub(crate) fn invalid<T>(value: u32) -> WireResult<'static, T> {
    Err(nom::Err::Error(WireError(FieldProblem::InvalidValue {
        value,
    })))
}

/// The caller's buffer was too small for what was to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

/// A cursor over a caller's buffer; never allocates.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    pub fn written(&self) -> usize {
        self.pos
    }

    pub fn put(&mut self, bytes: &[u8]) -> Result<(), Overflow> {
        let end = self.pos.checked_add(bytes.len()).ok_or(Overflow)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Overflow)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
}

/// A value with a fixed wire encoding.
pub(crate) trait Wire: Sized {
    /// Bytes every value of the type takes on the wire, if that is fixed.
    const SIZE: Option<usize>;
    fn parse(input: &[u8]) -> WireResult<'_, Self>;
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow>;
    /// The fast path: the value at `bytes[*at..]`, advancing `*at` past it,
    /// or `None` wherever [`Wire::parse`] would fail (which then says why).
    /// Straight-line reads at offsets that are constant once inlined.
    #[inline]
    fn read(bytes: &[u8], at: &mut usize) -> Option<Self> {
        let rest = bytes.get(*at..)?;
        let (after, value) = Self::parse(rest).ok()?;
        *at += rest.len() - after.len();
        Some(value)
    }
}

/// The sum of two field sizes, `None` if either varies.
pub(crate) const fn add_size(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    }
}

/// `N` bytes at `bytes[*at..]`, advancing `*at`.
#[inline(always)]
pub(crate) fn take_array<const N: usize>(bytes: &[u8], at: &mut usize) -> Option<[u8; N]> {
    let end = at.checked_add(N)?;
    let out: [u8; N] = bytes.get(*at..end)?.try_into().ok()?;
    *at = end;
    Some(out)
}

macro_rules! wire_int {
    ($($t:ty => $parser:path),* $(,)?) => {$(
        impl Wire for $t {
            const SIZE: Option<usize> = Some(core::mem::size_of::<$t>());
            fn parse(input: &[u8]) -> WireResult<'_, Self> {
                $parser(input)
            }
            #[inline(always)]
            fn read(bytes: &[u8], at: &mut usize) -> Option<Self> {
                take_array(bytes, at).map(<$t>::from_le_bytes)
            }
            fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
                w.put(&self.to_le_bytes())
            }
        }
    )*};
}

wire_int! {
    u8 => num::u8,
    u16 => num::le_u16,
    u32 => num::le_u32,
    i16 => num::le_i16,
    i32 => num::le_i32,
}

impl Wire for bool {
    const SIZE: Option<usize> = Some(1);
    #[inline(always)]
    fn read(bytes: &[u8], at: &mut usize) -> Option<Self> {
        match take_array::<1>(bytes, at)? {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
    fn parse(input: &[u8]) -> WireResult<'_, Self> {
        let (rest, raw) = num::u8(input)?;
        match raw {
            0 => Ok((rest, false)),
            1 => Ok((rest, true)),
            other => invalid(u32::from(other)),
        }
    }
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        w.put(&[u8::from(*self)])
    }
}

impl<T: Wire + Default + Copy, const N: usize> Wire for [T; N] {
    const SIZE: Option<usize> = match T::SIZE {
        Some(size) => Some(size * N),
        None => None,
    };
    #[inline(always)]
    fn read(bytes: &[u8], at: &mut usize) -> Option<Self> {
        let mut out = [T::default(); N];
        for slot in &mut out {
            *slot = T::read(bytes, at)?;
        }
        Some(out)
    }
    fn parse(mut input: &[u8]) -> WireResult<'_, Self> {
        let mut out = [T::default(); N];
        for slot in &mut out {
            let (rest, value) = T::parse(input)?;
            *slot = value;
            input = rest;
        }
        Ok((input, out))
    }
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        self.iter().try_for_each(|v| v.emit(w))
    }
}

/// UTF-8 text of at most `N` bytes after a one-byte length, borrowed from
/// the input: the one text parser, behind both [`String`] and the views.
pub(crate) fn text<const N: usize>(input: &[u8]) -> WireResult<'_, &str> {
    let (rest, len) = num::u8(input)?;
    if usize::from(len) > N {
        return invalid(u32::from(len));
    }
    let (rest, bytes) = nom::bytes::complete::take(len).parse(rest)?;
    let text = core::str::from_utf8(bytes)
        .map_err(|_| nom::Err::Error(WireError(FieldProblem::NotUtf8)))?;
    Ok((rest, text))
}

/// At most `N` records of `T` (of a fixed size) after a one-byte count,
/// borrowed from the input as their bytes: the one array parser, behind
/// both [`Vec`] and the views.
pub(crate) fn records<T: Wire, const N: usize>(input: &[u8]) -> WireResult<'_, (u8, &[u8])> {
    let (rest, count) = num::u8(input)?;
    if usize::from(count) > N {
        return invalid(u32::from(count));
    }
    let size = match T::SIZE {
        Some(size) => size,
        None => return invalid(u32::from(count)),
    };
    let (rest, bytes) = nom::bytes::complete::take(usize::from(count) * size).parse(rest)?;
    Ok((rest, (count, bytes)))
}

/// UTF-8 text after a one-byte length.
impl<const N: usize> Wire for String<N> {
    const SIZE: Option<usize> = None;
    fn parse(input: &[u8]) -> WireResult<'_, Self> {
        let (rest, text) = text::<N>(input)?;
        let mut out = String::new();
        // Cannot fail: `text` checked the length against the capacity.
        out.push_str(text)
            .map_err(|_| nom::Err::Error(WireError(FieldProblem::NotUtf8)))?;
        Ok((rest, out))
    }
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        let len = u8::try_from(self.len()).map_err(|_| Overflow)?;
        w.put(&[len])?;
        w.put(self.as_bytes())
    }
}

/// Records after a one-byte count.
impl<T: Wire, const N: usize> Wire for Vec<T, N> {
    const SIZE: Option<usize> = None;
    fn parse(input: &[u8]) -> WireResult<'_, Self> {
        let (mut rest, count) = num::u8(input)?;
        if usize::from(count) > N {
            return invalid(u32::from(count));
        }
        let mut out = Vec::new();
        for _ in 0..count {
            let (next, item) = T::parse(rest)?;
            // Cannot fail: the count was checked against the capacity above.
            if out.push(item).is_err() {
                return invalid(u32::from(count));
            }
            rest = next;
        }
        Ok((rest, out))
    }
    fn emit(&self, w: &mut Writer<'_>) -> Result<(), Overflow> {
        let count = u8::try_from(self.len()).map_err(|_| Overflow)?;
        w.put(&[count])?;
        self.iter().try_for_each(|v| v.emit(w))
    }
}

/// A one-byte code that names one of a closed set of values.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        pub enum $name { $( $(#[$vmeta])* $variant = $code ),* }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire code.
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The value for a wire code, if there is one.
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl $crate::wire::Wire for $name {
            const SIZE: Option<usize> = Some(1);
            #[inline(always)]
            fn read(bytes: &[u8], at: &mut usize) -> Option<Self> {
                let [code] = $crate::wire::take_array::<1>(bytes, at)?;
                Self::from_code(code)
            }
            fn parse(input: &[u8]) -> $crate::wire::WireResult<'_, Self> {
                let (rest, code) = nom::number::complete::u8(input)?;
                match Self::from_code(code) {
                    Some(value) => Ok((rest, value)),
                    None => $crate::wire::invalid(u32::from(code)),
                }
            }
            fn emit(&self, w: &mut $crate::wire::Writer<'_>) -> Result<(), $crate::wire::Overflow> {
                w.put(&[self.code()])
            }
        }
    };
}
pub(crate) use wire_enum;

/// A one-byte code from an open set: codes this version does not know are
/// kept as `Other(code)` so that newer firmware does not break older hosts.
macro_rules! wire_open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A code this protocol version does not define.
            Other(u8),
        }

        impl $name {
            /// Every value this version defines, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire code.
            pub const fn code(self) -> u8 {
                match self {
                    $($name::$variant => $code,)*
                    $name::Other(code) => code,
                }
            }

            /// The value for a wire code; unknown codes become `Other`.
            pub const fn from_code(code: u8) -> Self {
                match code {
                    $($code => $name::$variant,)*
                    other => $name::Other(other),
                }
            }
        }

        impl $crate::wire::Wire for $name {
            const SIZE: Option<usize> = Some(1);
            #[inline(always)]
            fn read(bytes: &[u8], at: &mut usize) -> Option<Self> {
                let [code] = $crate::wire::take_array::<1>(bytes, at)?;
                Some(Self::from_code(code))
            }
            fn parse(input: &[u8]) -> $crate::wire::WireResult<'_, Self> {
                let (rest, code) = nom::number::complete::u8(input)?;
                Ok((rest, Self::from_code(code)))
            }
            fn emit(&self, w: &mut $crate::wire::Writer<'_>) -> Result<(), $crate::wire::Overflow> {
                w.put(&[self.code()])
            }
        }
    };
}
pub(crate) use wire_open_enum;

/// A message body: a struct whose fields are encoded one after another.
/// Generates the struct and its field-by-field `parse` and `emit` (the
/// [`Body`] trait), and, unless the struct is marked `borrowed`, its view
/// ([`Viewed`](crate::message::body::Viewed)) as the struct itself, read by
/// the fast path: one length check, then each field at its fixed offset.
/// A `borrowed` struct (one with arrays or text) implements `Viewed` by
/// hand, with a view that borrows the frame's bytes.
macro_rules! wire_struct {
    (
        borrowed
        $(#[$meta:meta])*
        pub struct $name:ident { $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)? }
    ) => {
        $crate::wire::wire_struct!(@body $(#[$meta])* $name { $( $(#[$fmeta])* $field : $ty ),* });
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)? }
    ) => {
        $crate::wire::wire_struct!(@body $(#[$meta])* $name { $( $(#[$fmeta])* $field : $ty ),* });

        impl $crate::message::body::Viewed for $name {
            type View<'a> = $name;

            #[inline]
            fn view(
                msg_type: $crate::message::MessageType,
                payload: &[u8],
            ) -> Result<Self, $crate::message::MessageError> {
                const SIZE: Option<usize> = {
                    let size = Some(0);
                    $( let size = $crate::wire::add_size(size, <$ty as $crate::wire::Wire>::SIZE); )*
                    size
                };
                #[inline(always)]
                fn read(payload: &[u8]) -> Option<$name> {
                    if let Some(size) = SIZE {
                        if payload.len() != size {
                            return None;
                        }
                    }
                    let mut at = 0usize;
                    $( let $field = <$ty as $crate::wire::Wire>::read(payload, &mut at)?; )*
                    (at == payload.len()).then_some($name { $($field),* })
                }
                match read(payload) {
                    Some(body) => Ok(body),
                    // Something is wrong: the full parser says exactly what.
                    None => $crate::message::body::parse_body(msg_type, payload),
                }
            }

            #[inline]
            fn from_view(view: Self) -> Self {
                view
            }
        }
    };
    (@body $(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty ),* }

        impl $crate::wire::Body for $name {
            #[inline]
            fn parse_fields(input: &[u8]) -> Result<(&[u8], Self), $crate::wire::FieldError> {
                $(
                    let (input, $field) = <$ty as $crate::wire::Wire>::parse(input)
                        .map_err(|e| $crate::wire::FieldError::at(stringify!($field), e))?;
                )*
                Ok((input, $name { $($field),* }))
            }

            fn emit_fields(&self, w: &mut $crate::wire::Writer<'_>) -> Result<(), $crate::wire::Overflow> {
                $( $crate::wire::Wire::emit(&self.$field, w)?; )*
                Ok(())
            }
        }
    };
}
pub(crate) use wire_struct;

/// A field that failed to parse, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: &'static str,
    pub problem: FieldProblem,
}

impl FieldError {
    pub fn at(field: &'static str, err: nom::Err<WireError>) -> Self {
        let problem = match err {
            nom::Err::Error(WireError(p)) | nom::Err::Failure(WireError(p)) => p,
            nom::Err::Incomplete(_) => FieldProblem::Truncated,
        };
        FieldError { field, problem }
    }
}

/// Implemented by every message body made with `wire_struct!`.
pub(crate) trait Body: Sized {
    fn parse_fields(input: &[u8]) -> Result<(&[u8], Self), FieldError>;
    fn emit_fields(&self, w: &mut Writer<'_>) -> Result<(), Overflow>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit<T: Wire>(v: &T) -> ([u8; 64], usize) {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        v.emit(&mut w).unwrap();
        let n = w.written();
        (buf, n)
    }

    #[test]
    fn integers_are_little_endian() {
        assert_eq!(&emit(&0x1234u16).0[..2], &[0x34, 0x12]);
        assert_eq!(&emit(&0x1234_5678u32).0[..4], &[0x78, 0x56, 0x34, 0x12]);
        assert_eq!(&emit(&-2i16).0[..2], &[0xfe, 0xff]);
        assert_eq!(i32::parse(&[0xff, 0xff, 0xff, 0xff]).unwrap().1, -1);
    }

    #[test]
    fn bool_is_strict() {
        assert!(bool::parse(&[1]).unwrap().1);
        assert!(!bool::parse(&[0]).unwrap().1);
        assert_eq!(
            bool::parse(&[2]),
            Err(nom::Err::Error(WireError(FieldProblem::InvalidValue {
                value: 2
            })))
        );
    }

    #[test]
    fn string_is_length_prefixed_and_bounded() {
        let s: String<8> = String::try_from("pen").unwrap();
        let (buf, n) = emit(&s);
        assert_eq!(&buf[..n], b"\x03pen");
        assert_eq!(String::<8>::parse(b"\x03pen").unwrap().1, s);
        assert_eq!(
            String::<2>::parse(b"\x03pen"),
            Err(nom::Err::Error(WireError(FieldProblem::InvalidValue {
                value: 3
            })))
        );
        assert_eq!(
            String::<8>::parse(b"\x02\xff\xfe"),
            Err(nom::Err::Error(WireError(FieldProblem::NotUtf8)))
        );
        assert!(matches!(
            String::<8>::parse(b"\x05pen"),
            Err(nom::Err::Error(WireError(FieldProblem::Truncated)))
        ));
    }

    #[test]
    fn writer_refuses_overflow() {
        let mut buf = [0u8; 3];
        let mut w = Writer::new(&mut buf);
        assert_eq!(0x1234u16.emit(&mut w), Ok(()));
        assert_eq!(0x1234u16.emit(&mut w), Err(Overflow));
        assert_eq!(w.written(), 2);
    }
}
