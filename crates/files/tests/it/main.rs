mod input;
mod output;
