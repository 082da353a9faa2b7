// ehr-launch.js completes a SMART EHR launch against a FHIR server with the
// SMART on FHIR JavaScript client (fhirclient), playing both the app (a
// small Node web app using fhirclient's Node adapter) and the user's
// browser (following the redirects). It prints one JSON line with what the
// app saw, and exits non-zero on any failure.
//
// Environment: ISS (FHIR base URL), LAUNCH (launch id from the EHR),
// CLIENT_ID (a public client registered with redirect URI
// http://127.0.0.1:APP_PORT/callback), APP_PORT, SCOPE (optional).
"use strict";

const http = require("http");
const smart = require("fhirclient");

const env = (name, def) => {
    const v = process.env[name] || def;
    if (v === undefined) {
        throw new Error(`${name} is not set`);
    }
    return v;
};

const iss = env("ISS");
const launch = env("LAUNCH");
const clientId = env("CLIENT_ID");
const appPort = Number(env("APP_PORT"));
const scope = env("SCOPE", "launch openid fhirUser patient/Patient.rs");
const appBase = `http://127.0.0.1:${appPort}`;

// The app's session storage: one browser, so one in-memory map.
const session = new Map();
const storage = {
    get: async (key) => session.get(key),
    set: async (key, value) => { session.set(key, value); return value; },
    unset: async (key) => session.delete(key),
};

let result;

const app = http.createServer(async (req, res) => {
    const url = new URL(req.url, appBase);
    try {
        if (url.pathname === "/launch") {
            await smart(req, res, storage).authorize({
                clientId,
                scope,
                redirectUri: "/callback",
                pkceMode: "required",
            });
            return;
        }
        if (url.pathname === "/callback") {
            const client = await smart(req, res, storage).ready();
            const patient = await client.patient.read();
            const token = client.state.tokenResponse || {};
            result = {
                patientId: client.patient.id,
                patient,
                scope: token.scope,
                needPatientBanner: token.need_patient_banner,
                fhirUser: client.getFhirUser ? client.getFhirUser() : null,
                hasIdToken: Boolean(token.id_token),
            };
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end(JSON.stringify(result));
            return;
        }
        res.writeHead(404);
        res.end();
    } catch (err) {
        result = { error: String(err && err.stack || err) };
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify(result));
    }
});

// browse follows redirects the way a browser would, across the app and the
// authorization server, and returns the last response.
async function browse(start) {
    let url = start;
    for (let hops = 0; hops < 10; hops++) {
        const res = await fetch(url, { redirect: "manual" });
        const next = res.headers.get("location");
        if (res.status >= 300 && res.status < 400 && next) {
            url = new URL(next, url).toString();
            continue;
        }
        return { status: res.status, url, body: await res.text() };
    }
    throw new Error("too many redirects");
}

app.listen(appPort, "127.0.0.1", async () => {
    let code = 0;
    try {
        const launchURL = `${appBase}/launch?iss=${encodeURIComponent(iss)}&launch=${encodeURIComponent(launch)}`;
        const last = await browse(launchURL);
        if (last.status !== 200 || !result || result.error) {
            throw new Error(`launch ended at ${last.url} with ${last.status}: ${last.body.slice(0, 500)}`);
        }
        process.stdout.write(JSON.stringify(result) + "\n");
    } catch (err) {
        process.stderr.write(String(err && err.stack || err) + "\n");
        code = 1;
    }
    app.close();
    process.exit(code);
});
