//! Pictures of a run: spike rasters, population rates, membrane traces, training curves and
//! weight histograms, as PNG or SVG (chosen by the file extension).
//!
//! Pure Rust (plotters with its ab_glyph text renderer and an embedded DejaVu Sans), so
//! plotting works on a machine without fontconfig or any system font.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &[u8] = include_bytes!("font/DejaVuSans.ttf");
const SIZE: (u32, u32) = (1000, 600);
/// Tableau 10 (matplotlib's `tab10`): ten categorical colours that stay apart from each
/// other, so rasters and curves of up to ten populations are told apart by colour alone.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Width of the strip at the right of a picture that holds its legend, outside the data.
const LEGEND_WIDTH: u32 = 230;
const LEGEND_TOP: i32 = 60;
const LEGEND_ROW: i32 = 24;

/// Why a plot could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot plot to {0}: use a .png or .svg file name")]
    Format(String),
    #[error("nothing to plot: {0}")]
    Empty(String),
    #[error("drawing failed: {0}")]
    Draw(String),
}

fn draw_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// The spikes of one population.
#[derive(Debug, Clone)]
pub struct SpikeTrain<'a> {
    pub population: &'a str,
    /// Neurons recorded: what a population rate divides by (a slice's size, not the
    /// population's).
    pub neurons: u64,
    /// The neuron ids the raster shows, one row each (the recorded slice).
    pub ids: std::ops::Range<u64>,
    /// The stretch of time recorded, in ms (`record ... from T until T`, or the whole
    /// run): a population rate is drawn over it only, not as zeros where nothing was kept.
    pub window_ms: (f64, f64),
    pub times_ms: &'a [f64],
    pub node_ids: &'a [u64],
}

/// One named curve.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub label: &'a str,
    pub x: &'a [f64],
    pub y: &'a [f64],
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded font is valid; should registration fail, text falls back to nothing
        // drawn rather than an error, which the tests would catch.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

enum Format {
    Png,
    Svg,
}

fn format_of(path: &Path) -> Result<Format, PlotError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(Format::Png),
        Some("svg") => Ok(Format::Svg),
        _ => Err(PlotError::Format(path.display().to_string())),
    }
}

/// Runs a generic drawing function on a PNG or SVG backend chosen by the path.
macro_rules! on_backend {
    ($path:expr, $draw:ident ( $($arg:expr),* )) => {{
        register_font();
        match format_of($path)? {
            Format::Png => {
                let root = BitMapBackend::new($path, SIZE).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                $draw(&root, $($arg),*)?;
                root.present().map_err(draw_err)
            }
            Format::Svg => {
                let root = SVGBackend::new($path, SIZE).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                $draw(&root, $($arg),*)?;
                root.present().map_err(draw_err)
            }
        }
    }};
}

/// Spike raster: one row per neuron, populations stacked bottom to top, time in ms.
pub fn raster(
    path: &Path,
    title: &str,
    trains: &[SpikeTrain],
    t_end_ms: f64,
) -> Result<(), PlotError> {
    if trains.is_empty() {
        return Err(PlotError::Empty("no spike recordings".into()));
    }
    on_backend!(path, draw_raster(title, trains, t_end_ms))
}

fn draw_raster<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    trains: &[SpikeTrain],
    t_end_ms: f64,
) -> Result<(), PlotError> {
    let (first, top) = raster_rows(trains);
    let (plot_area, legend_area) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 26))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..t_end_ms.max(1e-9), first..top)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (ms)")
        .y_desc("neuron")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()
        .map_err(draw_err)?;
    let mut base = first;
    let mut legend = Vec::with_capacity(trains.len());
    for (i, train) in trains.iter().enumerate() {
        let color = color(i);
        let start = train.ids.start;
        let points = train
            .times_ms
            .iter()
            .zip(train.node_ids)
            .map(move |(&t, &id)| (t, base + id.saturating_sub(start) as f64 + 0.5));
        chart
            .draw_series(points.map(|p| Circle::new(p, 1, color.filled())))
            .map_err(draw_err)?;
        let label = format!("{} ({} spikes)", train.population, train.times_ms.len());
        legend.push((label, color));
        base += raster_height(train);
    }
    draw_legend(&legend_area, &legend, Marker::Dot)
}

/// The colour of the `i`-th population or curve.
fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// How a legend entry shows its colour.
#[derive(Clone, Copy)]
enum Marker {
    Dot,
    Line,
}

/// Draws a legend, one entry per row, in its own strip beside the chart (never over the
/// data). Entries that do not fit are summarised as "… and N more".
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    marker: Marker,
) -> Result<(), PlotError> {
    let style =
        TextStyle::from(("sans-serif", 16).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let height = area.dim_in_pixel().1 as i32;
    let fits = ((height - LEGEND_TOP) / LEGEND_ROW).max(1) as usize;
    let shown = if entries.len() > fits {
        fits - 1
    } else {
        entries.len()
    };
    for (i, (label, color)) in entries.iter().take(shown).enumerate() {
        let y = LEGEND_TOP + i as i32 * LEGEND_ROW;
        match marker {
            Marker::Dot => area.draw(&Circle::new((14, y), 4, color.filled())),
            Marker::Line => area.draw(&PathElement::new(
                vec![(4, y), (24, y)],
                color.stroke_width(2),
            )),
        }
        .map_err(draw_err)?;
        area.draw(&Text::new(label.clone(), (32, y), style.clone()))
            .map_err(draw_err)?;
    }
    if shown < entries.len() {
        let y = LEGEND_TOP + shown as i32 * LEGEND_ROW;
        let more = format!("… and {} more", entries.len() - shown);
        area.draw(&Text::new(more, (32, y), style))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Rows a population takes in the raster: one per recorded id.
fn raster_height(train: &SpikeTrain) -> f64 {
    train.ids.end.saturating_sub(train.ids.start) as f64
}

/// The raster's y range: populations stacked bottom to top, each over the rows of its
/// recorded ids, starting at the first population's first id (so a single slice
/// `E[1000..2000]` is drawn against its own ids).
fn raster_rows(trains: &[SpikeTrain]) -> (f64, f64) {
    let first = trains.first().map_or(0.0, |t| t.ids.start as f64);
    let total: f64 = trains.iter().map(raster_height).sum::<f64>().max(1.0);
    (first, first + total)
}

/// Population firing rate over time (spike counts in bins of `bin_ms`, in Hz per neuron).
pub fn population_rate(
    path: &Path,
    title: &str,
    trains: &[SpikeTrain],
    t_end_ms: f64,
    bin_ms: f64,
) -> Result<(), PlotError> {
    if trains.is_empty() || bin_ms <= 0.0 || t_end_ms <= 0.0 {
        return Err(PlotError::Empty("no spike recordings".into()));
    }
    let rates: Vec<(String, Vec<f64>, Vec<f64>)> = trains
        .iter()
        .map(|t| {
            let (x, y) = binned_rate(t, bin_ms);
            (t.population.to_string(), x, y)
        })
        .collect();
    let series: Vec<Series> = rates
        .iter()
        .map(|(l, x, y)| Series { label: l, x, y })
        .collect();
    let y_desc = format!("rate (Hz, {bin_ms} ms bins)");
    lines(path, title, "time (ms)", &y_desc, &series)
}

/// Bin centres (ms) and the rate in each bin, in Hz per recorded neuron, over the train's
/// window: bins start at the window's start, and the last one, if cut short by the window's
/// end, divides by its own width.
fn binned_rate(train: &SpikeTrain, bin_ms: f64) -> (Vec<f64>, Vec<f64>) {
    let (start, stop) = train.window_ms;
    let length = stop - start;
    // Also catches a NaN length.
    if length.is_nan() || length <= 0.0 {
        return (Vec::new(), Vec::new());
    }
    let bins = ((length / bin_ms).ceil() as usize).max(1);
    let mut counts = vec![0u64; bins];
    for &time in train.times_ms {
        let b = (((time - start).max(0.0) / bin_ms) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let neurons = train.neurons.max(1) as f64;
    let mut x = Vec::with_capacity(bins);
    let mut y = Vec::with_capacity(bins);
    for (b, &count) in counts.iter().enumerate() {
        let lo = start + b as f64 * bin_ms;
        let hi = (lo + bin_ms).min(stop);
        x.push((lo + hi) / 2.0);
        y.push(count as f64 * 1000.0 / ((hi - lo) * neurons));
    }
    (x, y)
}

/// Curves sharing one pair of axes (membrane traces, loss and accuracy per epoch).
pub fn lines(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> Result<(), PlotError> {
    let points = series
        .iter()
        .flat_map(|s| s.x.iter().zip(s.y))
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (&x, &y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return Err(PlotError::Empty(format!("no finite values for {title}")));
    }
    let pad = ((y1 - y0) * 0.05).max(1e-9);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    on_backend!(
        path,
        draw_lines(title, x_desc, y_desc, series, (x0, x1, y0, y1))
    )
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    (x0, x1, y0, y1): (f64, f64, f64, f64),
) -> Result<(), PlotError> {
    let legend = series.len() > 1 || !series.first().is_some_and(|s| s.label.is_empty());
    let (plot_area, legend_area) = if legend {
        root.split_horizontally(SIZE.0 - LEGEND_WIDTH)
    } else {
        root.split_horizontally(SIZE.0)
    };
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 26))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(draw_err)?;
    let mut entries = Vec::with_capacity(series.len());
    for (i, s) in series.iter().enumerate() {
        let color = color(i);
        let points =
            s.x.iter()
                .zip(s.y)
                .map(|(&x, &y)| (x, y))
                .filter(|(x, y)| x.is_finite() && y.is_finite());
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(draw_err)?;
        entries.push((s.label.to_string(), color));
    }
    if legend {
        draw_legend(&legend_area, &entries, Marker::Line)?;
    }
    Ok(())
}

/// Histogram of values (weights) in `bins` equal bins.
pub fn histogram(
    path: &Path,
    title: &str,
    x_desc: &str,
    values: &[f64],
    bins: usize,
) -> Result<(), PlotError> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || bins == 0 {
        return Err(PlotError::Empty(format!("no values for {title}")));
    }
    let lo = finite.iter().copied().fold(f64::MAX, f64::min);
    let hi = finite.iter().copied().fold(f64::MIN, f64::max);
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let mut counts = vec![0u64; bins];
    for v in &finite {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    on_backend!(path, draw_histogram(title, x_desc, lo, width, &counts))
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    lo: f64,
    width: f64,
    counts: &[u64],
) -> Result<(), PlotError> {
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.05;
    let hi = lo + width * counts.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 26))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(x_desc)
        .y_desc("count")
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()
        .map_err(draw_err)?;
    let bars = counts.iter().enumerate().map(|(i, &c)| {
        let x = lo + width * i as f64;
        Rectangle::new([(x, 0.0), (x + width, c as f64)], color(0).filled())
    });
    chart.draw_series(bars).map_err(draw_err)?;
    Ok(())
}

/// An axis tick: whole numbers without a decimal point (epochs, neuron indices), others with
/// at most four significant digits.
fn tick(v: &f64) -> String {
    if (v - v.round()).abs() <= 1e-9 * v.abs().max(1.0) {
        format!("{:.0}", v.round())
    } else {
        let text = format!("{v:.4}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plot_kind_writes_png_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let times: Vec<f64> = (0..500).map(|i| i as f64 * 2.0).collect();
        let ids: Vec<u64> = (0..500).map(|i| (i * 7 % 40) as u64).collect();
        let trains = [SpikeTrain {
            population: "E",
            neurons: 40,
            ids: 0..40,
            window_ms: (0.0, 1000.0),
            times_ms: &times,
            node_ids: &ids,
        }];
        let y: Vec<f64> = times.iter().map(|t| (t / 100.0).sin()).collect();
        for ext in ["png", "svg"] {
            let path = |name: &str| dir.path().join(format!("{name}.{ext}"));
            raster(&path("raster"), "raster", &trains, 1000.0).unwrap();
            population_rate(&path("rate"), "rate", &trains, 1000.0, 10.0).unwrap();
            lines(
                &path("trace"),
                "trace",
                "time (ms)",
                "v (mV)",
                &[Series {
                    label: "v[0]",
                    x: &times,
                    y: &y,
                }],
            )
            .unwrap();
            histogram(&path("hist"), "weights", "w (nS)", &y, 30).unwrap();
            for name in ["raster", "rate", "trace", "hist"] {
                let size = std::fs::metadata(path(name)).unwrap().len();
                assert!(size > 1000, "{name}.{ext} is only {size} bytes");
            }
        }
        let svg = std::fs::read_to_string(dir.path().join("raster.svg")).unwrap();
        assert!(svg.contains("time (ms)"), "axis label missing from the SVG");
    }

    #[test]
    fn a_recorded_slice_is_rated_and_drawn_by_its_own_neurons() {
        // 10 neurons E[1000..1010] of a population of 10,000, 50 spikes over 1 s: 5 Hz each.
        let times: Vec<f64> = (0..50).map(|i| i as f64 * 20.0).collect();
        let ids: Vec<u64> = (0..50).map(|i| 1000 + i % 10).collect();
        let slice = SpikeTrain {
            population: "E",
            neurons: 10,
            ids: 1000..1010,
            window_ms: (0.0, 1000.0),
            times_ms: &times,
            node_ids: &ids,
        };
        let (x, y) = binned_rate(&slice, 100.0);
        assert_eq!(x.len(), 10);
        assert!(y.iter().all(|&r| (r - 5.0).abs() < 1e-9), "{y:?}");
        assert_eq!(raster_rows(std::slice::from_ref(&slice)), (1000.0, 1010.0));
        let whole = SpikeTrain {
            population: "I",
            neurons: 2500,
            ids: 0..2500,
            window_ms: (0.0, 1000.0),
            times_ms: &[],
            node_ids: &[],
        };
        assert_eq!(raster_rows(&[slice, whole]), (1000.0, 3510.0));
    }

    #[test]
    fn a_windowed_train_is_rated_over_its_window_only() {
        // Recorded from 200 ms to 450 ms: 4 neurons, one spike each every 10 ms = 100 Hz.
        let times: Vec<f64> = (0..100).map(|i| 200.0 + (i / 4) as f64 * 10.0).collect();
        let ids: Vec<u64> = (0..100).map(|i| i % 4).collect();
        let train = SpikeTrain {
            population: "E",
            neurons: 4,
            ids: 0..4,
            window_ms: (200.0, 450.0),
            times_ms: &times,
            node_ids: &ids,
        };
        let (x, y) = binned_rate(&train, 100.0);
        // Bins 200..300, 300..400 and the short 400..450, each divided by its own width;
        // nothing is drawn before 200 ms, where nothing was recorded.
        assert_eq!(x, vec![250.0, 350.0, 425.0]);
        assert!(y.iter().all(|&r| (r - 100.0).abs() < 1e-9), "{y:?}");
        let empty = SpikeTrain {
            window_ms: (300.0, 300.0),
            ..train
        };
        assert_eq!(binned_rate(&empty, 100.0), (Vec::new(), Vec::new()));
    }

    #[test]
    fn the_palette_tells_at_least_eight_populations_apart() {
        let distance = |a: RGBColor, b: RGBColor| {
            let d = |x: u8, y: u8| (f64::from(x) - f64::from(y)).powi(2);
            (d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)).sqrt()
        };
        for i in 0..8 {
            for j in 0..i {
                let (a, b) = (color(i), color(j));
                assert!(
                    distance(a, b) > 60.0,
                    "colours {j} and {i} look alike: {a:?} {b:?}"
                );
            }
        }
    }

    /// The `x` attribute of every SVG element whose text contains `needle`, and the `cx` of
    /// every circle with radius 1 (a raster's spikes).
    fn svg_positions(svg: &str, needle: &str) -> (Vec<f64>, Vec<f64>) {
        let attr = |element: &str, name: &str| -> Option<f64> {
            let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
            let end = start + element[start..].find('"')?;
            element[start..end].parse().ok()
        };
        let mut texts = Vec::new();
        let mut dots = Vec::new();
        for element in svg.split('<') {
            if element.starts_with("text") && element.contains(needle) {
                texts.extend(attr(element, "x"));
            } else if element.starts_with("circle") && element.contains(" r=\"1\"") {
                dots.extend(attr(element, "cx"));
            }
        }
        (texts, dots)
    }

    #[test]
    fn the_raster_legend_sits_beside_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..9).map(|i| format!("P{i}")).collect();
        let times: Vec<f64> = (0..200).map(|i| f64::from(i) * 5.0).collect();
        let ids: Vec<u64> = (0..200).map(|i| i % 20).collect();
        let trains: Vec<SpikeTrain> = names
            .iter()
            .map(|name| SpikeTrain {
                population: name,
                neurons: 20,
                ids: 0..20,
                window_ms: (0.0, 1000.0),
                times_ms: &times,
                node_ids: &ids,
            })
            .collect();
        let path = dir.path().join("raster.svg");
        raster(&path, "nine populations", &trains, 1000.0).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let (labels, dots) = svg_positions(&svg, "spikes)");
        assert_eq!(labels.len(), 9, "one legend entry per population");
        assert_eq!(dots.len(), 9 * 200, "every spike drawn");
        let right_of_data = dots.iter().copied().fold(f64::MIN, f64::max);
        let left_of_legend = labels.iter().copied().fold(f64::MAX, f64::min);
        assert!(
            left_of_legend > right_of_data,
            "legend at x = {left_of_legend} overlaps spikes up to x = {right_of_data}"
        );
    }

    #[test]
    fn bad_requests_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            raster(&dir.path().join("x.jpg"), "t", &[], 1.0),
            Err(PlotError::Empty(_))
        ));
        let trains = [SpikeTrain {
            population: "E",
            neurons: 1,
            ids: 0..1,
            window_ms: (0.0, 1000.0),
            times_ms: &[],
            node_ids: &[],
        }];
        assert!(matches!(
            raster(&dir.path().join("x.jpg"), "t", &trains, 1.0),
            Err(PlotError::Format(_))
        ));
        assert!(matches!(
            histogram(&dir.path().join("h.png"), "t", "w", &[f64::NAN], 10),
            Err(PlotError::Empty(_))
        ));
    }
}
