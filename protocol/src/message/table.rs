//! The generator behind the message table in `message/mod.rs`: from one
//! entry per message it writes [`MessageType`](super::MessageType) (codes,
//! names, directions), [`Message`](super::Message) with its `nom` parse and
//! its emit, and [`MessageView`](super::MessageView) with its fast parse and
//! its conversion to `Message`. Nothing here names a message.

/// One entry per message, in code order:
///
/// ```text
/// /// docs
/// 0x85 => Telemetry(Telemetry), PenToHost;                          // a body
/// 0x86 => StrikeBatch(StrikeBatch as StrikeBatchView<'a>), PenToHost; // a borrowed view
/// 0x04 => Start, HostToPen;                                         // no payload
/// ```
macro_rules! messages {
    // The pieces that differ between messages with and without a body.
    (@parse $ty:ident $payload:ident $name:ident) => {
        expect_end($ty, $payload).map(|()| Message::$name)
    };
    (@parse $ty:ident $payload:ident $name:ident $repr:ty) => {
        parse_body::<$repr>($ty, $payload).map(Message::$name)
    };
    (@view $ty:ident $payload:ident $name:ident) => {
        expect_end($ty, $payload).map(|()| MessageView::$name)
    };
    (@view $ty:ident $payload:ident $name:ident $repr:ty) => {
        <$repr as Viewed>::view($ty, $payload).map(MessageView::$name)
    };
    (@view_ty $repr:ty) => { $repr };
    (@view_ty $repr:ty as $view:ty) => { $view };
    (@view_pat $body:ident $name:ident) => { MessageView::$name };
    (@view_pat $body:ident $name:ident $repr:ty) => { MessageView::$name($body) };
    (@owned $body:ident $name:ident) => { Message::$name };
    (@owned $body:ident $name:ident $repr:ty) => {
        Message::$name(<$repr as Viewed>::from_view($body))
    };

    ($(
        $(#[$doc:meta])*
        $code:literal => $name:ident $( ( $repr:ty $( as $view:ty )? ) )?, $dir:ident;
    )*) => {
        /// The type code of a message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[repr(u8)]
        pub enum MessageType { $( $(#[$doc])* $name = $code ),* }

        // The code tells the direction on the wire (PROTOCOL.md): the table
        // may not disagree.
        const _: () = {$(
            assert!(
                ($code & 0x80 == 0) == matches!(Direction::$dir, Direction::HostToPen),
                concat!(stringify!($name), ": codes below 0x80 go from host to pen, the rest back"),
            );
        )*};

        impl MessageType {
            /// Every message type, in code order.
            pub const ALL: &'static [MessageType] = &[$(MessageType::$name),*];

            /// The wire code.
            pub const fn code(self) -> u8 {
                self as u8
            }

            /// The message type for a wire code, if this version defines it.
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $($code => Some(MessageType::$name),)*
                    _ => None,
                }
            }

            /// The name used in specs, captures and reports.
            pub const fn name(self) -> &'static str {
                match self {
                    $(MessageType::$name => stringify!($name),)*
                }
            }

            /// Who sends this message.
            pub const fn direction(self) -> Direction {
                match self {
                    $(MessageType::$name => Direction::$dir,)*
                }
            }
        }

        /// Every message of the protocol, owned.
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[allow(clippy::large_enum_variant)] // fixed-capacity and allocation-free by design
        pub enum Message { $( $(#[$doc])* $name $( ($repr) )?, )* }

        impl Message {
            /// The message's type code.
            pub const fn msg_type(&self) -> MessageType {
                match self {
                    $(Message::$name { .. } => MessageType::$name,)*
                }
            }

            /// Parses a payload of the given type code with the full `nom`
            /// parser, which names the field at fault.
            #[inline]
            pub fn parse(msg_type: u8, payload: &[u8]) -> Result<Message, MessageError> {
                let ty = MessageType::from_code(msg_type)
                    .ok_or(MessageError::UnknownType { msg_type })?;
                match ty {
                    $(MessageType::$name => messages!(@parse ty payload $name $($repr)?),)*
                }
            }

            /// Writes the payload into `buf`; returns its length.
            pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
                let mut w = Writer::new(buf);
                #[allow(unreachable_patterns)] // when every message has a body
                match self {
                    $($(Message::$name(body) => <$repr as Body>::emit_fields(body, &mut w)?,)?)*
                    _ => {} // no payload
                }
                Ok(w.written())
            }
        }

        /// Every message of the protocol, as the fast decoder lends it out:
        /// fixed-layout bodies by value, bodies with arrays or text as views
        /// that borrow the frame's bytes. No allocation, no inline arrays;
        /// [`MessageView::to_message`] (or `From`) gives the owned message.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum MessageView<'a> {
            $( $(#[$doc])* $name $( (messages!(@view_ty $repr $(as $view)?)) )?, )*
        }

        impl<'a> MessageView<'a> {
            /// The message's type code.
            pub const fn msg_type(&self) -> MessageType {
                match self {
                    $(MessageView::$name { .. } => MessageType::$name,)*
                }
            }

            /// Parses a payload of the given type code without copying its
            /// arrays or text. Accepts and refuses exactly what
            /// [`Message::parse`] does, with the same errors.
            #[inline]
            pub fn parse(msg_type: u8, payload: &'a [u8]) -> Result<Self, MessageError> {
                // One jump on the wire code, straight to the body's reader.
                match msg_type {
                    $($code => {
                        let ty = MessageType::$name;
                        messages!(@view ty payload $name $($repr)?)
                    })*
                    _ => Err(MessageError::UnknownType { msg_type }),
                }
            }

            /// The owned message.
            pub fn to_message(&self) -> Message {
                match self.clone() {
                    $(messages!(@view_pat body $name $($repr)?) => messages!(@owned body $name $($repr)?),)*
                }
            }
        }
    };
}
pub(crate) use messages;
