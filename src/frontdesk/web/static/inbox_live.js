// Live updates: the agent event stream when the server has it, polling whenever it doesn't.
// Polling never stops entirely: a stream can stay "open" through a proxy that swallows events.

const POLL_WITHOUT_STREAM_MS = 5000;
const POLL_WITH_STREAM_MS = 60000;
const EVENT_TYPES = ["conversation.created", "conversation.updated", "message.created", "typing"];

export class Live {
  constructor({ onEvent, onPoll, onStatus }) {
    this.onEvent = onEvent;
    this.onPoll = onPoll;
    this.onStatus = onStatus;
    this.source = null;
    this.streaming = false;
    this.retryMs = 5000;
    this.lastPoll = Date.now();
    this.pollTimer = null;
  }

  start() {
    this.connect();
    this.schedulePoll();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.pollNow();
    });
  }

  connect() {
    if (!("EventSource" in window)) return;
    const source = new EventSource("/api/v1/agent/events");
    this.source = source;
    source.addEventListener("open", () => {
      const reconnected = this.retryMs !== 5000 || this.wasStreaming;
      this.streaming = true;
      this.wasStreaming = true;
      this.retryMs = 5000;
      this.onStatus("live");
      // Anything that happened while we were away: read it once now.
      if (reconnected) this.pollNow();
    });
    source.addEventListener("error", () => {
      this.streaming = false;
      this.onStatus("polling");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (404 while the server lacks the stream, 5xx): try later,
        // backing off, and let polling carry the inbox meanwhile.
        source.close();
        setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 300000);
      }
    });
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (event) => {
        let data;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        this.onEvent(type, data);
      });
    }
  }

  schedulePoll() {
    clearTimeout(this.pollTimer);
    const wait = this.streaming ? POLL_WITH_STREAM_MS : POLL_WITHOUT_STREAM_MS;
    this.pollTimer = setTimeout(() => this.pollNow(), wait);
  }

  async pollNow() {
    clearTimeout(this.pollTimer);
    try {
      await this.onPoll();
    } finally {
      this.lastPoll = Date.now();
      this.schedulePoll();
    }
  }
}

// Browser notifications: permission is asked only when the agent clicks the button.
export class Notifier {
  constructor(button) {
    this.button = button;
    this.supported = "Notification" in window;
    this.update();
    button.addEventListener("click", async () => {
      if (!this.supported) return;
      await Notification.requestPermission();
      this.update();
    });
  }

  update() {
    this.button.hidden = !this.supported || Notification.permission !== "default";
  }

  notify(title, body, tag, onClick) {
    if (!this.supported || Notification.permission !== "granted") return;
    // Text only: notification bodies are never interpreted as HTML.
    let notification;
    try {
      notification = new Notification(title, { body: body.slice(0, 200), tag });
    } catch {
      // Android's Chrome grants the permission but only shows notifications from a service
      // worker; the constructor throws there. Stop offering what can't be delivered.
      this.supported = false;
      this.update();
      return;
    }
    notification.addEventListener("click", () => {
      window.focus();
      onClick();
      notification.close();
    });
  }
}
