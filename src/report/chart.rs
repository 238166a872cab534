//! The per-account activity chart of the HTML report: events per hour over the compromise
//! window ±12 h, the attacker's events stacked on top in another colour, drawn as inline SVG.
//!
//! Inline SVG because the report is one self-contained file that works without JavaScript or
//! network: every bar carries a `<title>` (the browser shows it as a tooltip) and the axis is
//! labelled in the report's time zone. The data ([`Chart`]) is computed once in the view model;
//! [`svg`] only draws it, escaping every string it writes.

use super::clock::Clock;
use super::escape::html;
use crate::analyze::Ctx;
use crate::correlate::Window;
use crate::event::{RecordId, Timestamp};
use std::collections::HashSet;
use std::fmt::Write;

const HOUR_US: i64 = 3_600_000_000;
/// Context shown either side of the compromise window.
const MARGIN_US: i64 = 12 * HOUR_US;
/// At most this many bars; longer windows get wider bins.
const MAX_BINS: i64 = 240;
/// About this many labelled ticks on the time axis.
const MAX_TICKS: i64 = 14;

/// The chart's data, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Time zone of the labels.
    pub zone: String,
    /// Hours per bar (1 unless the window is long).
    pub bin_hours: u32,
    /// The bars, oldest first.
    pub bins: Vec<Bin>,
    /// The compromise window in bar units (fractional offsets from the first bar's start).
    pub window: (f64, f64),
    /// Events counted (all bars).
    pub total: u32,
    /// Attacker events counted (all bars).
    pub attacker: u32,
}

/// One bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    /// Start of the bar in the chosen zone (`2026-03-09 10:00`).
    pub start: String,
    /// End of the bar, hour only (`11:00`).
    pub end: String,
    /// Events of the account in the bar.
    pub total: u32,
    /// Of those, the attacker's.
    pub attacker: u32,
    /// Axis label under the bar, when it gets one.
    pub tick: Option<Tick>,
}

/// An axis label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// `HH:MM`.
    pub hour: String,
    /// `MM-DD`, on the first tick of each day.
    pub date: Option<String>,
}

/// `(date, hour)` parts of `Clock::short` (`2026-03-09 10:00`).
fn parts(clock: &Clock, t: Timestamp) -> (String, String) {
    let s = clock.short(t);
    let mut it = s.splitn(2, ' ');
    let date = it.next().unwrap_or("").to_string();
    let hour = it.next().unwrap_or("").to_string();
    (date, hour)
}

/// Local hour and minute of `t` in the clock's zone.
fn local_hm(clock: &Clock, t: Timestamp) -> (i64, i64) {
    let (_, hm) = parts(clock, t);
    let mut it = hm.split(':');
    let h = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let m = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    (h, m)
}

/// Counts the account's events per bar over the window ±12 h. `account_events` are the
/// account's event indices in time order ([`events_by_account`]); `attacker` the footprint's.
/// The same record read from two exports (UAL and mailbox audit) counts once. `None` when the
/// account has no events there.
///
/// Reads only the account's own events: scanning every event in the window made the report
/// quadratic on a large tenant (a window of weeks, for each of hundreds of flagged accounts).
///
/// [`events_by_account`]: crate::correlate::footprint::events_by_account
pub fn build(
    ctx: &Ctx<'_>,
    account_events: &[u32],
    attacker: &[u32],
    window: Window,
    clock: &Clock,
) -> Option<Chart> {
    let from = window.start.0.checked_sub(MARGIN_US)?;
    let to = window.end.0.checked_add(MARGIN_US)?;
    // Implausible windows (corrupt dates) get no chart rather than an overflow.
    if to < from || to - from > 200 * 366 * 24 * HOUR_US {
        return None;
    }
    // Bars start on a whole hour of the chosen zone (zones with :30 offsets included).
    let mut start = from.div_euclid(HOUR_US) * HOUR_US;
    let (_, minute) = local_hm(clock, Timestamp(start));
    start -= minute * 60_000_000;
    let span_h = ((to - start) + HOUR_US - 1).div_euclid(HOUR_US).max(1);
    let bin_hours = [1i64, 2, 3, 6, 12, 24]
        .into_iter()
        .find(|b| (span_h + b - 1) / b <= MAX_BINS)
        .unwrap_or_else(|| (span_h + MAX_BINS - 1) / MAX_BINS);
    let bin_us = bin_hours * HOUR_US;
    let n = ((to - start) + bin_us - 1).div_euclid(bin_us).max(1);

    let attacker: HashSet<u32> = attacker.iter().copied().collect();
    let lo = account_events.partition_point(|&i| ctx.ev(i).time.0 < start);
    let hi = account_events.partition_point(|&i| ctx.ev(i).time.0 <= to);
    let mut counts = vec![(0u32, 0u32); n as usize];
    let mut seen: HashSet<RecordId> = HashSet::new();
    for &i in &account_events[lo..hi.max(lo)] {
        let e = ctx.ev(i);
        if !e.record_id.is_empty() && !seen.insert(e.record_id) {
            continue;
        }
        let b = ((e.time.0 - start).div_euclid(bin_us)) as usize;
        if let Some(slot) = counts.get_mut(b) {
            slot.0 += 1;
            if attacker.contains(&i) {
                slot.1 += 1;
            }
        }
    }
    let total: u32 = counts.iter().map(|c| c.0).sum();
    if total == 0 {
        return None;
    }

    // Ticks on round local hours (00, 06, 12, 18 …) when bars are shorter than a day.
    let tick_every_h = [1i64, 2, 3, 6, 12, 24]
        .into_iter()
        .filter(|t| t % bin_hours == 0)
        .find(|t| (n * bin_hours) / t <= MAX_TICKS);
    let tick_every_bins = ((n + MAX_TICKS - 1) / MAX_TICKS).max(1);
    let mut bins = Vec::with_capacity(n as usize);
    let mut last_date = String::new();
    for (k, &(t, a)) in counts.iter().enumerate() {
        let bs = Timestamp(start + k as i64 * bin_us);
        let (date, hour) = parts(clock, bs);
        let (_, end) = parts(clock, Timestamp(bs.0 + bin_us));
        let is_tick = match tick_every_h {
            Some(every) => {
                let (h, m) = local_hm(clock, bs);
                m == 0 && h % every == 0
            }
            None => k as i64 % tick_every_bins == 0,
        };
        let tick = is_tick.then(|| {
            let short_date = date.get(5..).unwrap_or(&date).to_string();
            let show = date != last_date;
            last_date.clone_from(&date);
            Tick {
                hour: hour.clone(),
                date: show.then_some(short_date),
            }
        });
        bins.push(Bin {
            start: format!("{date} {hour}"),
            end,
            total: t,
            attacker: a,
            tick,
        });
    }
    let unit = bin_us as f64;
    Some(Chart {
        zone: clock.zone_name().to_string(),
        bin_hours: bin_hours as u32,
        bins,
        window: (
            (window.start.0 - start) as f64 / unit,
            (window.end.0 - start) as f64 / unit,
        ),
        total,
        attacker: counts.iter().map(|c| c.1).sum(),
    })
}

/// A round maximum for the y axis (1, 2, 5 × 10^k).
fn nice_max(v: u32) -> u32 {
    let v = v.max(1);
    let mut step = 1u32;
    loop {
        for m in [1u32, 2, 5] {
            let c = step.saturating_mul(m);
            if c >= v {
                return c;
            }
        }
        step = step.saturating_mul(10);
    }
}

const W: f64 = 960.0;
const H: f64 = 230.0;
const ML: f64 = 48.0;
const MR: f64 = 12.0;
const MT: f64 = 26.0;
const MB: f64 = 52.0;
/// Colour of ordinary events.
pub const COLOR_EVENTS: &str = "#9aa5b1";
/// Colour of the attacker's events.
pub const COLOR_ATTACKER: &str = "#c62828";
const COLOR_WINDOW: &str = "#fdecea";

/// The chart as an inline `<svg>` element (no script, no external reference). `label` names the
/// chart for assistive technology and is escaped.
pub fn svg(chart: &Chart, label: &str) -> String {
    let n = chart.bins.len().max(1) as f64;
    let pw = W - ML - MR;
    let ph = H - MT - MB;
    let bw = pw / n;
    let ymax = nice_max(chart.bins.iter().map(|b| b.total).max().unwrap_or(0));
    let y = |v: u32| MT + ph - ph * (v as f64) / (ymax as f64);
    let per = if chart.bin_hours == 1 {
        "hour".to_string()
    } else {
        format!("{} hours", chart.bin_hours)
    };
    let zone = html(&chart.zone);
    let mut s = String::with_capacity(4096 + chart.bins.len() * 256);
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" width=\"100%\" role=\"img\" \
         preserveAspectRatio=\"xMinYMin meet\" font-family=\"sans-serif\" font-size=\"11\">\
         <title>{}: events per {per} ({zone})</title>",
        html(label)
    );
    // The compromise window.
    let (w0, w1) = chart.window;
    let x0 = ML + (w0.max(0.0).min(n)) * bw;
    let x1 = ML + (w1.max(0.0).min(n)) * bw;
    let _ = write!(
        s,
        "<rect x=\"{x0:.2}\" y=\"{MT:.2}\" width=\"{:.2}\" height=\"{ph:.2}\" fill=\"{COLOR_WINDOW}\">\
         <title>compromise window</title></rect>",
        (x1 - x0).max(1.0)
    );
    // Grid and y labels.
    for v in [0, ymax / 2, ymax] {
        if v == ymax / 2 && (ymax < 2 || ymax % 2 != 0) {
            continue;
        }
        let yy = y(v);
        let _ = write!(
            s,
            "<line x1=\"{ML:.2}\" y1=\"{yy:.2}\" x2=\"{:.2}\" y2=\"{yy:.2}\" stroke=\"#d0d5da\" \
             stroke-width=\"1\"/><text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"end\" \
             fill=\"#444\">{v}</text>",
            W - MR,
            ML - 6.0,
            yy + 4.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"12\" y=\"{:.2}\" fill=\"#444\" transform=\"rotate(-90 12 {:.2})\" \
         text-anchor=\"middle\">events</text>",
        MT + ph / 2.0,
        MT + ph / 2.0
    );
    // Bars.
    let gap = if bw > 4.0 { 1.0 } else { 0.0 };
    for (k, b) in chart.bins.iter().enumerate() {
        let x = ML + k as f64 * bw;
        if let Some(t) = &b.tick {
            let cx = x;
            let _ = write!(
                s,
                "<line x1=\"{cx:.2}\" y1=\"{:.2}\" x2=\"{cx:.2}\" y2=\"{:.2}\" stroke=\"#888\"/>\
                 <text x=\"{cx:.2}\" y=\"{:.2}\" text-anchor=\"middle\" fill=\"#444\">{}</text>",
                MT + ph,
                MT + ph + 4.0,
                MT + ph + 16.0,
                html(&t.hour)
            );
            if let Some(d) = &t.date {
                let _ = write!(
                    s,
                    "<text x=\"{cx:.2}\" y=\"{:.2}\" text-anchor=\"middle\" fill=\"#444\" \
                     font-weight=\"bold\">{}</text>",
                    MT + ph + 29.0,
                    html(d)
                );
            }
        }
        if b.total == 0 {
            continue;
        }
        let normal = b.total - b.attacker.min(b.total);
        let _ = write!(
            s,
            "<g><title>{} – {} {zone}: {} event(s), {} by the attacker</title>",
            html(&b.start),
            html(&b.end),
            b.total,
            b.attacker
        );
        let w = (bw - gap).max(0.5);
        if normal > 0 {
            let top = y(b.total);
            let bottom = y(b.attacker);
            let _ = write!(
                s,
                "<rect x=\"{x:.2}\" y=\"{top:.2}\" width=\"{w:.2}\" height=\"{:.2}\" \
                 fill=\"{COLOR_EVENTS}\"/>",
                (bottom - top).max(0.5)
            );
        }
        if b.attacker > 0 {
            let top = y(b.attacker);
            let _ = write!(
                s,
                "<rect x=\"{x:.2}\" y=\"{top:.2}\" width=\"{w:.2}\" height=\"{:.2}\" \
                 fill=\"{COLOR_ATTACKER}\"/>",
                (MT + ph - top).max(0.5)
            );
        }
        s.push_str("</g>");
    }
    let _ = write!(
        s,
        "<line x1=\"{ML:.2}\" y1=\"{:.2}\" x2=\"{:.2}\" y2=\"{:.2}\" stroke=\"#444\"/>",
        MT + ph,
        W - MR,
        MT + ph
    );
    let _ = write!(
        s,
        "<text x=\"{:.2}\" y=\"{:.2}\" text-anchor=\"middle\" fill=\"#444\">time ({zone}), \
         one bar per {per}</text>",
        ML + pw / 2.0,
        H - 6.0
    );
    // Legend.
    let _ = write!(
        s,
        "<g font-size=\"11\" fill=\"#222\">\
         <rect x=\"{ML:.2}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{COLOR_EVENTS}\"/>\
         <text x=\"{:.2}\" y=\"16\">events of the account</text>\
         <rect x=\"{:.2}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{COLOR_ATTACKER}\"/>\
         <text x=\"{:.2}\" y=\"16\">attacker</text>\
         <rect x=\"{:.2}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{COLOR_WINDOW}\" \
         stroke=\"#e0b4b0\"/><text x=\"{:.2}\" y=\"16\">compromise window</text></g>",
        ML + 16.0,
        ML + 170.0,
        ML + 186.0,
        ML + 260.0,
        ML + 276.0
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_chart(label: &str) -> Chart {
        Chart {
            zone: "UTC".into(),
            bin_hours: 1,
            bins: vec![
                Bin {
                    start: "2026-03-09 09:00".into(),
                    end: "10:00".into(),
                    total: 7,
                    attacker: 5,
                    tick: Some(Tick {
                        hour: "09:00".into(),
                        date: Some("03-09".into()),
                    }),
                },
                Bin {
                    start: label.into(),
                    end: "11:00".into(),
                    total: 0,
                    attacker: 0,
                    tick: None,
                },
            ],
            window: (0.2, 1.5),
            total: 7,
            attacker: 5,
        }
    }

    fn samples_chart(zone: &str) -> Chart {
        let a = crate::report::model::tests::samples();
        let v = a
            .accounts
            .iter()
            .find(|v| v.window.is_some())
            .expect("an account with a window");
        let ctx = a.ctx();
        let clock = Clock::named(zone).unwrap();
        let by_account = crate::correlate::footprint::events_by_account(&ctx);
        let sym = ctx.interner.get(&v.account).expect("an interned account");
        build(
            &ctx,
            &by_account[&sym],
            &v.attacker_events,
            v.window.unwrap(),
            &clock,
        )
        .expect("chart")
    }

    #[test]
    fn bars_are_local_hours_around_the_window() {
        let c = samples_chart("UTC");
        // 2026-03-09 09:02:41 − 12 h → first bar 2026-03-08 21:00; last bar holds 08:30 + 12 h.
        assert_eq!(c.bins[0].start, "2026-03-08 21:00");
        assert_eq!(c.bins.last().unwrap().start, "2026-03-11 20:00");
        assert_eq!(c.bin_hours, 1);
        assert_eq!(c.bins.iter().map(|b| b.total).sum::<u32>(), c.total);
        assert!(c.attacker > 20, "{}", c.attacker);
        let peak = c
            .bins
            .iter()
            .find(|b| b.start == "2026-03-09 09:00")
            .unwrap();
        assert!(
            peak.attacker >= 10 && peak.total >= peak.attacker,
            "{peak:?}"
        );
        assert!((c.window.0 - 12.044).abs() < 0.01, "{:?}", c.window);
        // A zone half an hour off UTC still gets bars on its own whole hours.
        let k = samples_chart("Asia/Kolkata");
        assert!(
            k.bins.iter().all(|b| b.start.ends_with(":00")),
            "{:?}",
            k.bins[0]
        );
        assert_eq!(k.zone, "Asia/Kolkata");
        let ticks: Vec<&Tick> = k.bins.iter().filter_map(|b| b.tick.as_ref()).collect();
        assert!(ticks.len() >= 4 && ticks.len() <= 15, "{}", ticks.len());
        assert!(ticks.iter().any(|t| t.date.is_some()));
    }

    #[test]
    fn nice_axis_maximum() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(240), 500);
    }

    #[test]
    fn svg_has_tooltips_axis_and_both_colours() {
        let s = svg(&sample_chart("x"), "amelia");
        assert!(s.starts_with("<svg ") && s.ends_with("</svg>"));
        assert!(s.contains(
            "<title>2026-03-09 09:00 – 10:00 UTC: 7 event(s), 5 by the attacker</title>"
        ));
        assert!(s.contains(COLOR_ATTACKER) && s.contains(COLOR_EVENTS));
        assert!(s.contains(">09:00</text>") && s.contains(">03-09</text>"));
        assert!(s.contains("time (UTC), one bar per hour"));
        assert!(
            !s.contains("http"),
            "no namespace URL or external reference"
        );
        // Empty bars draw nothing and have no tooltip.
        assert_eq!(s.matches("<g><title>").count(), 1);
    }

    #[test]
    fn svg_escapes_labels() {
        let s = svg(&sample_chart("x"), "<img src=x onerror=alert(1)>");
        assert!(!s.contains("<img"));
        assert!(s.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }
}
