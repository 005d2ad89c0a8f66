// A person on Element's own crypto: matrix-js-sdk with its Rust crypto (what Element Web and Element X run),
// in "exclude insecure devices" mode (OnlySignedDevicesIsolationMode), cross-signed as a new Element login is.
//
// Driven by the Python test over stdin/stdout, one JSON object per line: {"id": 1, "cmd": "say", ...}.
// Answers are stdout lines starting with "@@" and the JSON {"id": 1, "ok": true, ...}; everything else the
// SDK prints goes to stderr.

// matrix-js-sdk 43 declares Node >= 22; on Node 20 only Promise.withResolvers is missing.
if (!Promise.withResolvers) {
    Promise.withResolvers = function withResolvers() {
        let resolve, reject;
        const promise = new Promise((yes, no) => { resolve = yes; reject = no; });
        return { promise, resolve, reject };
    };
}
console.log = console.error;
console.info = console.error;
console.debug = console.error;
console.warn = console.error;

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
logger.setLevel("warn");

const state = { client: null, userId: null, password: null, bot: null };

function answer(id, body) {
    process.stdout.write("@@" + JSON.stringify({ id, ...body }) + "\n");
}

async function until(condition, what, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await condition();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

async function setup({ homeserver, userId, password, bot }) {
    const login = sdk.createClient({ baseUrl: homeserver });
    const session = await login.loginRequest({
        type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password,
        initial_device_display_name: "Element (test)",
    });
    const client = sdk.createClient({
        baseUrl: homeserver, userId: session.user_id, deviceId: session.device_id, accessToken: session.access_token,
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const crypto = client.getCrypto();
    await crypto.bootstrapCrossSigning({
        authUploadDeviceSigningKeys: async (makeRequest) => {
            try {
                await makeRequest(null);
            } catch (error) {
                const uia = error.data || {};
                if (!uia.flows) throw error;
                await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: userId },
                                    password, session: uia.session });
            }
        },
    });
    crypto.setDeviceIsolationMode(new cryptoApi.OnlySignedDevicesIsolationMode());
    state.client = client;
    state.userId = session.user_id;
    state.bot = bot;
    const prepared = new Promise((resolve) => client.once(sdk.ClientEvent.Sync, (syncState) => resolve(syncState)));
    await client.startClient({ initialSyncLimit: 20 });
    await prepared;
    const crossSigned = await crypto.isCrossSigningReady();
    return { deviceId: session.device_id, crossSigned };
}

async function openDm({ timeoutMs }) {
    const client = state.client;
    const { room_id: roomId } = await client.createRoom({
        is_direct: true, invite: [state.bot], preset: "trusted_private_chat",
        initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    await until(() => client.getRoom(roomId)?.getMember(state.bot)?.membership === "join", "the bot to join",
                timeoutMs);
    return { roomId };
}

async function join({ roomId, timeoutMs }) {
    const client = state.client;
    await until(() => client.getRoom(roomId)?.getMyMembership() === "invite", "the invite", timeoutMs);
    await client.joinRoom(roomId);
    await until(() => client.getRoom(roomId)?.getMyMembership() === "join", "the own join", timeoutMs);
    return {};
}

async function say({ roomId, text, replyTo }) {
    const content = { msgtype: "m.text", body: text };
    if (replyTo) content["m.relates_to"] = { "m.in_reply_to": { event_id: replyTo } };  // as Element replies now
    const { event_id: eventId } = await state.client.sendMessage(roomId, content);
    return { eventId };
}

async function botEvents(roomId) {
    const room = state.client.getRoom(roomId);
    if (!room) return [];
    const events = room.getLiveTimeline().getEvents().filter((event) => event.getSender() === state.bot
        && (event.getType() === "m.room.message" || event.getType() === "m.room.encrypted"));
    return events;
}

async function describe(event) {
    const crypto = state.client.getCrypto();
    await state.client.decryptEventIfNeeded(event);
    const info = event.isEncrypted() ? await crypto.getEncryptionInfoForEvent(event) : null;
    return {
        eventId: event.getId(),
        encrypted: event.isEncrypted(),
        failed: event.isDecryptionFailure(),
        failureReason: event.decryptionFailureReason ?? null,
        body: event.isDecryptionFailure() ? null : (event.getContent().body ?? null),
        msgtype: event.getContent().msgtype ?? null,
        shieldColour: info ? info.shieldColour : null,
        shieldReason: info ? info.shieldReason : null,
    };
}

async function expect({ roomId, contains, after, timeoutMs }) {
    const seen = new Set(after || []);
    const found = await until(async () => {
        for (const event of await botEvents(roomId)) {
            if (seen.has(event.getId()) || event.isBeingDecrypted()) continue;
            const described = await describe(event);
            if (described.body !== null && described.body.toLowerCase().includes(contains.toLowerCase())) {
                return described;
            }
        }
        return null;
    }, `a message from the bot containing ${JSON.stringify(contains)}`, timeoutMs).catch(async (error) => {
        const unread = [];
        for (const event of await botEvents(roomId)) {
            if (!seen.has(event.getId())) unread.push(await describe(event));
        }
        throw new Error(`${error.message}; unread bot messages: ${JSON.stringify(unread)}`);
    });
    return found;
}

async function allBotMessages({ roomId }) {
    const messages = [];
    for (const event of await botEvents(roomId)) messages.push(await describe(event));
    return { messages };
}

async function botDevices() {
    const crypto = state.client.getCrypto();
    const devices = (await crypto.getUserDeviceInfo([state.bot], true)).get(state.bot) || new Map();
    const result = [];
    for (const deviceId of devices.keys()) {
        const status = await crypto.getDeviceVerificationStatus(state.bot, deviceId);
        result.push({ deviceId, signedByOwner: Boolean(status && status.signedByOwner) });
    }
    return { devices: result };
}

const commands = { botDevices, setup, openDm, join, say, expect, allBotMessages };

const readline = await import("node:readline");
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
    if (!line.trim()) continue;
    const request = JSON.parse(line);
    if (request.cmd === "quit") {
        state.client?.stopClient();
        answer(request.id, { ok: true });
        break;
    }
    try {
        answer(request.id, { ok: true, ...(await commands[request.cmd](request)) });
    } catch (error) {
        answer(request.id, { ok: false, error: String(error && error.stack || error) });
    }
}
process.exit(0);
