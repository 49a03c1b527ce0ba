//! The OData `filter` subset Web PubSub accepts for targeting connections: identifiers `userId`,
//! `connectionId`, `protocol` and the collection `groups`; `eq ne gt ge lt le`, `in`, `and or
//! not`, parentheses; string, integer, boolean and null literals (`'it''s'` escapes a quote); and the
//! functions `tolower toupper trim length contains startswith endswith indexof substring concat`.
//! Pure: parsed once per request, then evaluated per connection. Hand-written because the OData
//! crates parse full URLs for entity sets, not this small expression language.

use crate::engine::Conn;

/// The most tokens a filter may have (the service advises staying under about 100 clauses).
const MAX_TOKENS: usize = 1000;
/// The deepest nesting of parentheses and `not`s.
const MAX_DEPTH: usize = 64;

/// Why a filter is invalid (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter: {0}")]
pub struct FilterError(String);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Str(String),
    Int(i64),
    Word(String),
    Open,
    Close,
    Comma,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(Value),
    Ident(Ident),
    List(Vec<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Op, Box<Expr>, Box<Expr>),
    In(Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ident {
    UserId,
    ConnectionId,
    Protocol,
    Groups,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    ToLower,
    ToUpper,
    Trim,
    Length,
    Contains,
    StartsWith,
    EndsWith,
    IndexOf,
    Substring,
    Concat,
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(Expr);

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(message.into()))
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err("unterminated string"),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let literal: String = chars[start..i].iter().collect();
                tokens.push(Token::Int(
                    literal
                        .parse()
                        .map_err(|_| FilterError(format!("bad number {literal}")))?,
                ));
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return err(format!("unexpected character {other:?}")),
        }
        if tokens.len() > MAX_TOKENS {
            return err("the filter is too long");
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }
    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }
    fn deeper(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err("the filter nests too deeply");
        }
        Ok(())
    }
    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }
    fn not(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("not") {
            self.pos += 1;
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }
    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Some(Op::Eq),
                "ne" => Some(Op::Ne),
                "gt" => Some(Op::Gt),
                "ge" => Some(Op::Ge),
                "lt" => Some(Op::Lt),
                "le" => Some(Op::Le),
                "in" => {
                    self.pos += 1;
                    return Ok(Expr::In(Box::new(left), Box::new(self.primary()?)));
                }
                _ => None,
            },
            _ => None,
        };
        match op {
            Some(op) => {
                self.pos += 1;
                Ok(Expr::Cmp(op, Box::new(left), Box::new(self.primary()?)))
            }
            None => Ok(left),
        }
    }
    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Token::Open) => {
                self.deeper()?;
                let first = self.or()?;
                let result = if matches!(self.peek(), Some(Token::Comma)) {
                    let mut items = vec![first];
                    while matches!(self.peek(), Some(Token::Comma)) {
                        self.pos += 1;
                        items.push(self.or()?);
                    }
                    Expr::List(items)
                } else {
                    first
                };
                self.depth -= 1;
                match self.next() {
                    Some(Token::Close) => Ok(result),
                    _ => err("missing ')'"),
                }
            }
            Some(Token::Str(s)) => Ok(Expr::Lit(Value::Str(s))),
            Some(Token::Int(n)) => Ok(Expr::Lit(Value::Int(n))),
            Some(Token::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                match lower.as_str() {
                    "true" => return Ok(Expr::Lit(Value::Bool(true))),
                    "false" => return Ok(Expr::Lit(Value::Bool(false))),
                    "null" => return Ok(Expr::Lit(Value::Null)),
                    "userid" => return Ok(Expr::Ident(Ident::UserId)),
                    "connectionid" => return Ok(Expr::Ident(Ident::ConnectionId)),
                    "protocol" => return Ok(Expr::Ident(Ident::Protocol)),
                    "groups" => return Ok(Expr::Ident(Ident::Groups)),
                    _ => {}
                }
                let func = match lower.as_str() {
                    "tolower" => Func::ToLower,
                    "toupper" => Func::ToUpper,
                    "trim" => Func::Trim,
                    "length" => Func::Length,
                    "contains" => Func::Contains,
                    "startswith" => Func::StartsWith,
                    "endswith" => Func::EndsWith,
                    "indexof" => Func::IndexOf,
                    "substring" => Func::Substring,
                    "concat" => Func::Concat,
                    _ => return err(format!("unknown identifier {w:?}")),
                };
                if self.next() != Some(Token::Open) {
                    return err(format!("{w} needs arguments"));
                }
                self.deeper()?;
                let mut args = vec![self.or()?];
                while matches!(self.peek(), Some(Token::Comma)) {
                    self.pos += 1;
                    args.push(self.or()?);
                }
                self.depth -= 1;
                if self.next() != Some(Token::Close) {
                    return err("missing ')'");
                }
                let arity_ok = match func {
                    Func::ToLower | Func::ToUpper | Func::Trim | Func::Length => args.len() == 1,
                    Func::Substring => args.len() == 2 || args.len() == 3,
                    _ => args.len() == 2,
                };
                if !arity_ok {
                    return err(format!("wrong number of arguments to {w}"));
                }
                Ok(Expr::Call(func, args))
            }
            Some(Token::Close | Token::Comma) => err("unexpected punctuation"),
            None => err("the filter ends too early"),
        }
    }
}

impl Filter {
    /// Parses a filter.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let mut parser = Parser {
            tokens: tokenize(text)?,
            pos: 0,
            depth: 0,
        };
        if parser.tokens.is_empty() {
            return err("the filter is empty");
        }
        let expr = parser.or()?;
        if parser.pos != parser.tokens.len() {
            return err("unexpected text after the filter");
        }
        Ok(Self(expr))
    }

    /// Whether `conn` matches; anything that is not `true` does not.
    pub fn matches(&self, conn: &Conn) -> bool {
        let ctx = Context {
            user_id: conn.user_id.as_deref(),
            connection_id: &conn.id,
            protocol: conn.protocol.name(),
            groups: conn.groups(),
        };
        eval(&self.0, &ctx) == Value::Bool(true)
    }
}

struct Context<'a> {
    user_id: Option<&'a str>,
    connection_id: &'a str,
    protocol: Option<&'static str>,
    groups: Vec<String>,
}

fn eval(expr: &Expr, ctx: &Context<'_>) -> Value {
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::Str(s.to_owned()));
    match expr {
        Expr::Lit(v) => v.clone(),
        Expr::Ident(Ident::UserId) => text(ctx.user_id),
        Expr::Ident(Ident::ConnectionId) => text(Some(ctx.connection_id)),
        Expr::Ident(Ident::Protocol) => text(ctx.protocol),
        Expr::Ident(Ident::Groups) => {
            Value::List(ctx.groups.iter().cloned().map(Value::Str).collect())
        }
        Expr::List(items) => Value::List(items.iter().map(|e| eval(e, ctx)).collect()),
        Expr::Not(inner) => match eval(inner, ctx) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Expr::And(a, b) => {
            Value::Bool(eval(a, ctx) == Value::Bool(true) && eval(b, ctx) == Value::Bool(true))
        }
        Expr::Or(a, b) => {
            Value::Bool(eval(a, ctx) == Value::Bool(true) || eval(b, ctx) == Value::Bool(true))
        }
        Expr::Cmp(op, a, b) => {
            let (a, b) = (eval(a, ctx), eval(b, ctx));
            let comparable = matches!(
                (&a, &b),
                (Value::Str(_), Value::Str(_))
                    | (Value::Int(_), Value::Int(_))
                    | (Value::Bool(_), Value::Bool(_))
            );
            Value::Bool(match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Gt => comparable && a > b,
                Op::Ge => comparable && a >= b,
                Op::Lt => comparable && a < b,
                Op::Le => comparable && a <= b,
            })
        }
        Expr::In(needle, haystack) => match eval(haystack, ctx) {
            Value::List(items) => Value::Bool(items.contains(&eval(needle, ctx))),
            single => Value::Bool(single == eval(needle, ctx)),
        },
        Expr::Call(func, args) => call(
            *func,
            &args.iter().map(|a| eval(a, ctx)).collect::<Vec<_>>(),
        ),
    }
}

fn call(func: Func, args: &[Value]) -> Value {
    let s = |i: usize| match args.get(i) {
        Some(Value::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    let n = |i: usize| match args.get(i) {
        Some(Value::Int(n)) => usize::try_from(*n).ok(),
        _ => None,
    };
    match func {
        Func::ToLower => s(0).map_or(Value::Null, |v| Value::Str(v.to_lowercase())),
        Func::ToUpper => s(0).map_or(Value::Null, |v| Value::Str(v.to_uppercase())),
        Func::Trim => s(0).map_or(Value::Null, |v| Value::Str(v.trim().to_owned())),
        Func::Length => match args.first() {
            Some(Value::Str(v)) => Value::Int(v.chars().count() as i64),
            Some(Value::List(items)) => Value::Int(items.len() as i64),
            _ => Value::Null,
        },
        Func::Contains => match (s(0), s(1)) {
            (Some(a), Some(b)) => Value::Bool(a.contains(b)),
            _ => Value::Null,
        },
        Func::StartsWith => match (s(0), s(1)) {
            (Some(a), Some(b)) => Value::Bool(a.starts_with(b)),
            _ => Value::Null,
        },
        Func::EndsWith => match (s(0), s(1)) {
            (Some(a), Some(b)) => Value::Bool(a.ends_with(b)),
            _ => Value::Null,
        },
        Func::IndexOf => match (s(0), s(1)) {
            (Some(a), Some(b)) => Value::Int(
                a.find(b)
                    .map_or(-1, |byte| a[..byte].chars().count() as i64),
            ),
            _ => Value::Null,
        },
        Func::Substring => match (s(0), n(1)) {
            (Some(a), Some(start)) => {
                let rest = a.chars().skip(start);
                Value::Str(match n(2) {
                    Some(len) => rest.take(len).collect(),
                    None => rest.collect(),
                })
            }
            _ => Value::Null,
        },
        Func::Concat => match (s(0), s(1)) {
            (Some(a), Some(b)) => Value::Str(format!("{a}{b}")),
            _ => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Hub, Protocol};
    use std::sync::Arc;

    fn conn(user: Option<&str>, groups: &[&str]) -> Arc<Conn> {
        let hub = Hub::default();
        let conn = Arc::new(Conn::new(
            "chat",
            user.map(str::to_owned),
            Protocol::Json,
            &[],
            None,
        ));
        hub.add(conn.clone());
        for g in groups {
            hub.join(g, &conn);
        }
        conn
    }

    fn matches(filter: &str, conn: &Conn) -> bool {
        Filter::parse(filter).unwrap().matches(conn)
    }

    #[test]
    fn documented_examples() {
        let user1 = conn(Some("user1"), &["group2"]);
        let user1_in_group1 = conn(Some("user1"), &["group1"]);
        let filter = "userId eq 'user1' and (not ('group1' in groups))";
        assert!(matches(filter, &user1));
        assert!(!matches(filter, &user1_in_group1));
        assert!(matches("userId eq 'user''1'", &conn(Some("user'1"), &[])));
    }

    #[test]
    fn comparisons_lists_and_functions() {
        let c = conn(Some("Alice"), &["a", "b"]);
        assert!(matches("userId in ('Bob', 'Alice')", &c));
        assert!(!matches("userId in ('Bob')", &c));
        assert!(matches("tolower(userId) eq 'alice'", &c));
        assert!(matches("length(groups) eq 2 and length(userId) ge 5", &c));
        assert!(matches(
            "startswith(userId, 'Al') or endswith(userId, 'x')",
            &c
        ));
        assert!(matches(
            "substring(userId, 1, 3) eq 'lic' and indexof(userId, 'ice') eq 2",
            &c
        ));
        assert!(matches(
            "concat(userId, '!') eq 'Alice!' and contains(userId, 'lic')",
            &c
        ));
        assert!(matches("protocol eq 'json.webpubsub.azure.v1'", &c));
        assert!(matches("userId ne null", &c));
        assert!(matches("userId eq null", &conn(None, &[])));
    }

    #[test]
    fn operators_are_case_insensitive_and_precedence_holds() {
        let c = conn(Some("u"), &[]);
        // and binds tighter than or: false or (true and true)
        assert!(matches("userId eq 'x' OR userId eq 'u' AND true", &c));
        assert!(!matches("NOT userId eq 'u'", &c));
    }

    #[test]
    fn invalid_filters_are_errors() {
        for bad in [
            "",
            "userId eq",
            "userId eq 'x",
            "(userId eq 'x'",
            "bogus eq 1",
            "userId eq 'x' extra",
            "tolower()",
            "substring('a')",
            "userId @ 'x'",
            "99999999999999999999 eq 1",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = format!("{}true{}", "(".repeat(100), ")".repeat(100));
        assert!(Filter::parse(&deep).is_err());
        let nots = format!("{}true", "not ".repeat(100));
        assert!(Filter::parse(&nots).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsing_arbitrary_filters_never_panics(text in ".{0,120}") {
            let _ = Filter::parse(&text);
        }

        #[test]
        fn parsing_filter_shaped_text_never_panics(
            words in proptest::collection::vec(
                "(userId|groups|connectionId|protocol|eq|ne|gt|in|and|or|not|\\(|\\)|,|'[a-z]{0,3}'|[0-9]{1,3}|null|true|tolower|length|substring)",
                0..30,
            ),
        ) {
            let text = words.join(" ");
            if let Ok(filter) = Filter::parse(&text) {
                // Whatever parses can be evaluated.
                let conn = Conn::new("chat", Some("u".into()), crate::engine::Protocol::Json, &[], None);
                let _ = filter.matches(&conn);
            }
        }
    }
}
