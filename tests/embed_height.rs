//! The embed frame tells the page that embeds it its height in coarse steps and to that page's
//! origin only (issue #10: it posted its exact height, which follows the verdicts, to any
//! parent with "*"). `www/embed-height.js` runs in Node.js (installed by `cargo xtask setup`)
//! against a fake window and parent; app.js, card.js and embed.js are read for their side of it.
#![cfg(not(target_arch = "wasm32"))]

mod node;

use node::read;

/// Runs `checks` with www/embed-height.js imported as `height`.
fn node(checks: &str) {
    node::run("embed-height.js", "height", checks);
}

/// A frame's window whose parent records what it is told, and a way to send the frame a
/// message as the browser would (with the sender's window and origin).
const FAKE_FRAME: &str = r#"
function frame(contentHeight) {
  const told = [];
  const parent = { postMessage: (data, target) => told.push({ data, target }) };
  const listeners = [];
  const win = { parent, addEventListener: (type, f) => type === "message" && listeners.push(f) };
  const state = { told, parent, height: contentHeight };
  state.post = height.reportHeight(win, () => state.height);
  state.send = (source, origin, data) => listeners.forEach((f) => f({ source, origin, data }));
  return state;
}
"#;

#[test]
fn heights_are_rounded_up_to_200_px() {
    node(
        "assert.equal(height.HEIGHT_STEP, 200);\n\
         for (const [px, told] of [[0, 200], [1, 200], [200, 200], [200.5, 400], [437, 600], [1001, 1200]]) {\n\
           assert.equal(height.coarseHeight(px), told, `${px} px`);\n\
         }",
    );
}

#[test]
fn the_height_goes_only_to_the_origin_that_said_hello() {
    node(&format!(
        "{FAKE_FRAME}
const f = frame(437);
// First only `ready`, with nothing else in it, to any parent.
assert.deepEqual(f.told, [{{ data: {{ type: 'netreach:ready' }}, target: '*' }}]);
f.post();
assert.equal(f.told.length, 1, 'no height before a hello');
// A hello from another window than the parent: ignored.
f.send({{}}, 'https://evil.example', {{ type: 'netreach:hello' }});
f.post();
assert.equal(f.told.length, 1, 'a hello from another window');
// The parent's hello: the coarse height, to its origin only.
f.send(f.parent, 'https://news.example', {{ type: 'netreach:hello' }});
assert.deepEqual(f.told[1], {{ data: {{ type: 'netreach:height', height: 600 }}, target: 'https://news.example' }});
// Within the same step nothing more is told; the next step is.
f.height = 512; f.post();
assert.equal(f.told.length, 2, 'a change inside a step is not told');
f.height = 655; f.post();
assert.deepEqual(f.told[2], {{ data: {{ type: 'netreach:height', height: 800 }}, target: 'https://news.example' }});
assert.ok(f.told.slice(1).every((t) => t.target !== '*'), 'never a height to *');
// A sandboxed parent (opaque origin) is told nothing.
const sandboxed = frame(300);
sandboxed.send(sandboxed.parent, 'null', {{ type: 'netreach:hello' }});
sandboxed.post();
assert.equal(sandboxed.told.length, 1);
// Outside a frame: nothing at all.
const top = {{ addEventListener() {{}} }};
top.parent = top;
assert.equal(height.reportHeight(top, () => 100), null);"
    ));
}

#[test]
fn the_page_the_card_and_embed_js_use_that_exchange_and_nothing_else() {
    // The test's frame (app.js) and the status card's (card.js).
    for page in ["app.js", "card.js"] {
        let script = read(&format!("www/{page}"));
        assert!(
            script.contains("import(\"./embed-height.js\")")
                && script.contains("reportHeight(window"),
            "{page} does not report its height through embed-height.js"
        );
        assert!(
            !script.contains("netreach:height"),
            "{page} posts a height of its own"
        );
    }
    let embed = read("www/embed.js");
    assert!(
        embed.contains("type === \"netreach:ready\"")
            && embed.contains("postMessage({ type: \"netreach:hello\" }, base.origin)"),
        "embed.js does not answer the frame's ready with a hello to the frame's origin"
    );
}
