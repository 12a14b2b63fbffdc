//! The Wasm heap: power-of-two size classes with free lists, pages straight from
//! `memory.grow`. A run makes a few thousand small allocations and frees them all, so this
//! ~1 KB allocator does the job of dlmalloc (7 KB of code) at the cost of some slack memory:
//! up to twice a block's size, and one 64 KiB page per size class in use.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr;

const PAGE: usize = 65_536;
/// Size classes 2^0 … 2^31 bytes; the smallest used is 8 (a free-list link).
const CLASSES: usize = 32;

/// Free-list heads per size class (0 = empty); each free block starts with the next one's
/// address.
pub struct Heap {
    free: UnsafeCell<[usize; CLASSES]>,
}

// Wasm without threads: one thread uses the heap.
unsafe impl Sync for Heap {}

#[global_allocator]
static HEAP: Heap = Heap {
    free: UnsafeCell::new([0; CLASSES]),
};

fn class(layout: Layout) -> usize {
    let size = layout.size().max(layout.align()).max(8);
    size.next_power_of_two().trailing_zeros() as usize
}

/// `pages` fresh zeroed pages, or `None` when the memory cannot grow.
fn grow(pages: usize) -> Option<usize> {
    let previous = wasm32::memory_grow(0, pages);
    (previous != usize::MAX).then_some(previous * PAGE)
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let class = class(layout);
        if class >= CLASSES {
            return ptr::null_mut();
        }
        let free = &mut *self.free.get();
        let head = free[class];
        if head != 0 {
            free[class] = *(head as *const usize);
            return head as *mut u8;
        }
        let block = 1usize << class;
        if block >= PAGE {
            return grow(block / PAGE).map_or(ptr::null_mut(), |at| at as *mut u8);
        }
        // Cut a fresh page into blocks of this class (page-aligned, so each block is aligned
        // to its own size): hand out the first, chain the rest.
        let Some(base) = grow(1) else {
            return ptr::null_mut();
        };
        let mut next = 0;
        let mut at = base + PAGE - block;
        while at > base {
            *(at as *mut usize) = next;
            next = at;
            at -= block;
        }
        free[class] = next;
        base as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let free = &mut *self.free.get();
        let class = class(layout);
        *(ptr as *mut usize) = free[class];
        free[class] = ptr as usize;
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if class(new_layout) == class(layout) {
            return ptr;
        }
        let new = self.alloc(new_layout);
        if !new.is_null() {
            ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new
    }
}
