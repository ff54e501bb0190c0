//! API Gateway events, built from the real sample events that ship with the
//! `aws_lambda_events` crate (copied under `fixtures/`).

use serde_json::{json, Map, Value};

const REST_V1: &str = include_str!("../fixtures/example-apigw-sam-rest-request.json");
const HTTP_V2: &str = include_str!("../fixtures/example-apigw-v2-request-no-authorizer.json");

/// Which integration delivers the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// REST API (`AWS::Serverless::Api`), payload format 1.0, with a stage.
    RestV1,
    /// HTTP API or function URL, payload format 2.0.
    HttpV2,
}

impl Payload {
    pub const ALL: [Payload; 2] = [Payload::RestV1, Payload::HttpV2];
}

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The caller's address as API Gateway saw it (the fixtures' own otherwise).
    pub source_ip: Option<String>,
}

impl HttpRequest {
    pub fn post(path: &str) -> Self {
        HttpRequest {
            method: "POST".into(),
            path: path.into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: None,
            source_ip: None,
        }
    }

    /// Sent from `ip`, as API Gateway records it in the request context.
    pub fn from_ip(mut self, ip: &str) -> Self {
        self.source_ip = Some(ip.to_owned());
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string());
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = method.into();
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    pub fn event(&self, payload: Payload) -> Value {
        match payload {
            Payload::RestV1 => self.rest_v1(),
            Payload::HttpV2 => self.http_v2(),
        }
    }

    fn rest_v1(&self) -> Value {
        let mut event: Value = serde_json::from_str(REST_V1).expect("v1 fixture");
        let mut single = Map::new();
        let mut multi = Map::new();
        for (name, value) in &self.headers {
            single.insert(name.clone(), json!(value));
            if let Some(values) = multi
                .entry(name.clone())
                .or_insert_with(|| json!([]))
                .as_array_mut()
            {
                values.push(json!(value));
            }
        }
        event["headers"] = Value::Object(single);
        event["multiValueHeaders"] = Value::Object(multi);
        event["httpMethod"] = json!(self.method);
        event["path"] = json!(self.path);
        event["resource"] = json!(self.path);
        event["body"] = self.body.as_ref().map_or(Value::Null, |b| json!(b));
        event["isBase64Encoded"] = json!(false);
        let context = &mut event["requestContext"];
        context["httpMethod"] = json!(self.method);
        context["resourcePath"] = json!(self.path);
        context["path"] = json!(format!("/Prod{}", self.path));
        if let Some(ip) = &self.source_ip {
            context["identity"]["sourceIp"] = json!(ip);
        }
        event
    }

    fn http_v2(&self) -> Value {
        let mut event: Value = serde_json::from_str(HTTP_V2).expect("v2 fixture");
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            let key = name.to_ascii_lowercase();
            // v2 joins repeated headers with commas.
            let joined = match headers.get(&key).and_then(Value::as_str) {
                Some(previous) => format!("{previous},{value}"),
                None => value.clone(),
            };
            headers.insert(key, json!(joined));
        }
        event["headers"] = Value::Object(headers);
        event["rawPath"] = json!(self.path);
        event["routeKey"] = json!(format!("{} {}", self.method, self.path));
        event["body"] = self.body.as_ref().map_or(Value::Null, |b| json!(b));
        event["isBase64Encoded"] = json!(false);
        let http = &mut event["requestContext"]["http"];
        http["method"] = json!(self.method);
        http["path"] = json!(self.path);
        if let Some(ip) = &self.source_ip {
            http["sourceIp"] = json!(ip);
        }
        event
    }
}
