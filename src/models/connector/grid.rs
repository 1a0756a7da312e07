//! Spatial geometry of the rate-mode connectors `conv`, `maxpool` and `avgpool`: how a
//! population's shape reads as feature maps, and the output size a kernel, stride and
//! padding give (PyTorch's `Conv2d`/`MaxPool2d` arithmetic).
//!
//! A shape `[C, H, W]` is C maps of H × W units, `[H, W]` one map, `[N]` N maps of 1 × 1.
//! A sample's units are laid out channel-major, `c·H·W + y·W + x`, which is also PyTorch's
//! flattening order, so a shaped population projecting `full` into a flat one flattens.

/// A population's shape as feature maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl Grid {
    pub fn of(shape: &[usize]) -> Option<Grid> {
        match *shape {
            [n] => Some(Grid {
                channels: n,
                height: 1,
                width: 1,
            }),
            [h, w] => Some(Grid {
                channels: 1,
                height: h,
                width: w,
            }),
            [c, h, w] => Some(Grid {
                channels: c,
                height: h,
                width: w,
            }),
            _ => None,
        }
    }

    /// Units per map.
    pub fn area(&self) -> usize {
        self.height * self.width
    }

    pub fn size(&self) -> usize {
        self.channels * self.area()
    }
}

impl std::fmt::Display for Grid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {}, {}]", self.channels, self.height, self.width)
    }
}

/// A square window sliding over the maps of `input` with `stride`, after padding every
/// side with `padding` zeros (or, for pooling, with nothing that can win).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub input: Grid,
    pub output: Grid,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl Window {
    /// The output grid of a window over `input`, or why none fits. `out_channels` is the
    /// number of output maps (conv: free; pooling: the input's).
    pub fn new(
        input: Grid,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Window, String> {
        if kernel == 0 || stride == 0 {
            return Err("kernel and stride must be at least 1".into());
        }
        let out = |n: usize| {
            (n + 2 * padding)
                .checked_sub(kernel)
                .map(|d| d / stride + 1)
        };
        match (out(input.height), out(input.width)) {
            (Some(height), Some(width)) => Ok(Window {
                input,
                output: Grid {
                    channels: out_channels,
                    height,
                    width,
                },
                kernel,
                stride,
                padding,
            }),
            _ => Err(format!(
                "a {kernel}×{kernel} window does not fit in {}×{} maps",
                input.height, input.width
            )),
        }
    }

    /// Padding that keeps the map size at stride 1 (odd kernels).
    pub fn same_padding(kernel: usize) -> usize {
        kernel.saturating_sub(1) / 2
    }

    /// Inputs one output unit sees (per input channel, times channels for conv).
    pub fn taps(&self) -> usize {
        self.kernel * self.kernel
    }
}

/// The window a `conv`/`maxpool`/`avgpool` projection describes between two shapes, from
/// its `kernel`/`size`, `stride` and `padding` arguments; an error says what does not fit.
pub fn window_between(
    source: &[usize],
    target: &[usize],
    kernel: usize,
    stride: usize,
    padding: Padding,
    maps: Maps,
) -> Result<Window, String> {
    let input = Grid::of(source)
        .ok_or_else(|| format!("the source shape {source:?} is not [C, H, W] or [H, W]"))?;
    let wanted = Grid::of(target)
        .ok_or_else(|| format!("the target shape {target:?} is not [C, H, W] or [H, W]"))?;
    let pad = match padding {
        Padding::Same => Window::same_padding(kernel),
        Padding::Valid => 0,
    };
    let channels = match maps {
        Maps::AsTarget => wanted.channels,
        Maps::AsSource => input.channels,
    };
    let w = Window::new(input, channels, kernel, stride, pad)?;
    if w.output != wanted {
        return Err(format!(
            "it maps {input} to {}, but the target is {wanted}",
            w.output
        ));
    }
    Ok(w)
}

/// How many feature maps a window makes: a convolution as many as its target declares,
/// pooling as many as its source has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maps {
    AsTarget,
    AsSource,
}

/// What a spatial connector computes over each window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    /// A learned kernel per (output map, input map) pair, shared over positions.
    Conv,
    /// The largest input in the window (per map).
    MaxPool,
    /// The mean of the window (per map; padding counts as zeros, as PyTorch's default).
    AvgPool,
}

/// The window between a source and a target shape, from a connector's numeric arguments
/// and its `padding` choice (`same`/`valid`, if given).
pub type WindowOf = fn(
    source: &[usize],
    target: &[usize],
    args: super::Args,
    padding: Option<&str>,
) -> Result<Window, String>;

/// How a spatial connector reads its arguments and the two shapes.
#[derive(Debug)]
pub struct SpatialInfo {
    pub op: SpatialOp,
    /// The window between a source and a target shape, from the connector's numeric
    /// arguments and its `padding` choice (`same`/`valid`, if given).
    pub window: WindowOf,
}

/// The `generate` of every spatial connector: they share kernels, not synapses, so there is
/// no synapse list to draw (the checker refuses them in spiking networks before this runs).
pub fn no_synapse_list(_: &super::Generate) -> Result<super::Rows, String> {
    Err("conv, maxpool and avgpool are rate-mode connectors: they have no synapse list".into())
}

/// A whole-number argument >= 1, or `default`.
pub fn positive_arg(
    args: super::Args,
    name: &str,
    default: Option<usize>,
) -> Result<usize, String> {
    match args(name) {
        Some(x) if x >= 1.0 && x.fract() == 0.0 && x < 65536.0 => Ok(x as usize),
        Some(x) => Err(format!("`{name}` must be a whole number >= 1, not {x}")),
        None => default.ok_or_else(|| format!("missing argument `{name}`")),
    }
}

/// `padding = same | valid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    Same,
    Valid,
}

impl Padding {
    pub const NAMES: &'static [&'static str] = &["same", "valid"];

    pub fn from_name(name: &str) -> Option<Padding> {
        match name {
            "same" => Some(Padding::Same),
            "valid" => Some(Padding::Valid),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_pytorch() {
        // Conv2d(1, 32, 3, padding=1) on 28x28 keeps 28x28; MaxPool2d(2) halves it.
        let same = window_between(
            &[1, 28, 28],
            &[32, 28, 28],
            3,
            1,
            Padding::Same,
            Maps::AsTarget,
        );
        assert_eq!(same.map(|w| w.padding), Ok(1));
        let pool = window_between(
            &[32, 28, 28],
            &[32, 14, 14],
            2,
            2,
            Padding::Valid,
            Maps::AsSource,
        );
        assert!(pool.is_ok());
        // Conv2d(3, 8, 5, stride=2) on 32x32: floor((32 - 5) / 2) + 1 = 14.
        let w = Window::new(Grid::of(&[3, 32, 32]).unwrap(), 8, 5, 2, 0).unwrap();
        assert_eq!((w.output.height, w.output.width), (14, 14));
        // Odd maps under a 2x2 pool lose their last row and column, as in PyTorch.
        let w = Window::new(Grid::of(&[4, 7, 7]).unwrap(), 4, 2, 2, 0).unwrap();
        assert_eq!(w.output.height, 3);
    }

    #[test]
    fn mismatched_targets_say_what_the_window_makes() {
        let e = window_between(
            &[1, 28, 28],
            &[32, 26, 28],
            3,
            1,
            Padding::Valid,
            Maps::AsTarget,
        );
        assert_eq!(
            e.unwrap_err(),
            "it maps [1, 28, 28] to [32, 26, 26], but the target is [32, 26, 28]"
        );
        let e = Window::new(Grid::of(&[1, 2, 2]).unwrap(), 1, 3, 1, 0);
        assert!(e.unwrap_err().contains("does not fit"));
    }
}
