//! A UDP relay for geo-links: listens on a loopback port and forwards every datagram to a
//! target address, and the replies back to the original sender (one upstream socket per
//! client address, so the target sees one distinct source per client, as NAT would do).
//!
//! The relay has a [`Mode`]: `Pass` forwards, `Cut` drops everything in both directions,
//! `Delay` forwards after a fixed delay, `Loss` drops a fraction of datagrams at random.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// What the relay does with datagrams.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Forward everything.
    Pass,
    /// Drop everything (both directions): a cut link.
    Cut,
    /// Forward everything after this delay (each direction).
    Delay(Duration),
    /// Drop this fraction (0.0 to 1.0) of datagrams, at random, in each direction.
    Loss(f64),
}

struct Shared {
    mode: Mutex<Mode>,
    forwarded: AtomicU64,
    dropped: AtomicU64,
    rng: Mutex<u64>,
}

impl Shared {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }

    /// Decides the fate of one datagram: `None` = drop, `Some(d)` = send after `d`.
    fn fate(&self) -> Option<Duration> {
        let verdict = match self.mode() {
            Mode::Pass => Some(Duration::ZERO),
            Mode::Cut => None,
            Mode::Delay(d) => Some(d),
            Mode::Loss(p) => {
                let mut s = self.rng.lock().unwrap();
                // xorshift64*
                *s ^= *s >> 12;
                *s ^= *s << 25;
                *s ^= *s >> 27;
                let x = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                (u >= p).then_some(Duration::ZERO)
            }
        };
        match verdict {
            Some(_) => self.forwarded.fetch_add(1, Ordering::Relaxed),
            None => self.dropped.fetch_add(1, Ordering::Relaxed),
        };
        verdict
    }
}

async fn send_later(sock: Arc<UdpSocket>, data: Vec<u8>, to: Option<SocketAddr>, delay: Duration) {
    let send = async move {
        let _ = match to {
            Some(to) => sock.send_to(&data, to).await,
            None => sock.send(&data).await,
        };
    };
    if delay.is_zero() {
        send.await;
    } else {
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            send.await;
        });
    }
}

/// A running relay; its tasks stop when it is dropped.
pub struct Relay {
    addr: SocketAddr,
    target: SocketAddr,
    shared: Arc<Shared>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    /// Starts a relay on a free loopback port, forwarding to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Relay> {
        let listener = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let addr = listener.local_addr()?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        let shared = Arc::new(Shared {
            mode: Mutex::new(Mode::Pass),
            forwarded: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            rng: Mutex::new(seed ^ addr.port() as u64),
        });
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let main = {
            let shared = shared.clone();
            let tasks = tasks.clone();
            tokio::spawn(async move {
                let mut upstreams: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
                let mut buf = vec![0u8; 65536];
                loop {
                    let (n, from) = match listener.recv_from(&mut buf).await {
                        Ok(x) => x,
                        // e.g. ICMP port unreachable reported on Linux: keep going.
                        Err(_) => continue,
                    };
                    let Some(delay) = shared.fate() else { continue };
                    let up = match upstreams.get(&from) {
                        Some(up) => up.clone(),
                        None => {
                            let Ok(up) = UdpSocket::bind("127.0.0.1:0").await else {
                                continue;
                            };
                            if up.connect(target).await.is_err() {
                                continue;
                            }
                            let up = Arc::new(up);
                            upstreams.insert(from, up.clone());
                            // Replies from the target go back to `from` through the listener.
                            let back = {
                                let up = up.clone();
                                let listener = listener.clone();
                                let shared = shared.clone();
                                tokio::spawn(async move {
                                    let mut buf = vec![0u8; 65536];
                                    loop {
                                        let n = match up.recv(&mut buf).await {
                                            Ok(n) => n,
                                            Err(_) => continue,
                                        };
                                        let Some(delay) = shared.fate() else { continue };
                                        send_later(
                                            listener.clone(),
                                            buf[..n].to_vec(),
                                            Some(from),
                                            delay,
                                        )
                                        .await;
                                    }
                                })
                            };
                            tasks.lock().unwrap().push(back);
                            up
                        }
                    };
                    send_later(up, buf[..n].to_vec(), None, delay).await;
                }
            })
        };
        tasks.lock().unwrap().push(main);
        Ok(Relay {
            addr,
            target,
            shared,
            tasks,
        })
    }

    /// The address clients send to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address datagrams are forwarded to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Sets the mode.
    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    /// Drops everything from now on, both directions.
    pub fn cut(&self) {
        self.set_mode(Mode::Cut);
    }

    /// Forwards everything again.
    pub fn heal(&self) {
        self.set_mode(Mode::Pass);
    }

    /// Datagrams forwarded / dropped so far (both directions).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.shared.forwarded.load(Ordering::Relaxed),
            self.shared.dropped.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}
